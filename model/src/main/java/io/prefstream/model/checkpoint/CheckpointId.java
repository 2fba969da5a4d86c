package io.prefstream.model.checkpoint;

/**
 * Names one checkpoint: a version of a tenant's model. Versions are monotonic per tenant/model.
 *
 * @param tenant the tenant whose pairs trained it
 * @param model the model's name within the tenant
 * @param version 1, 2, ...
 */
public record CheckpointId(String tenant, String model, long version) {

  public CheckpointId {
    if (tenant == null || tenant.isEmpty() || model == null || model.isEmpty()) {
      throw new IllegalArgumentException(
          "a checkpoint needs a tenant and a model name, got tenant=" + tenant + " model=" + model);
    }
    if (version < 1) {
      throw new IllegalArgumentException("checkpoint versions start at 1, got " + version);
    }
  }

  /** The key on prefstream.checkpoints: tenant/model/version. */
  public String key() {
    return tenant + "/" + model + "/" + version;
  }

  @Override
  public String toString() {
    return key();
  }
}
