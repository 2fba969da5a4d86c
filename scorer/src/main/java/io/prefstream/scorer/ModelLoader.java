package io.prefstream.scorer;

import io.prefstream.avro.CheckpointPublished;
import io.prefstream.model.Devices;
import io.prefstream.model.RewardModel;
import io.prefstream.model.checkpoint.CheckpointLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads an announced checkpoint for serving through {@link CheckpointLoader}: only when every
 * SHA-256 verifies, warmed up, so the first request after a swap does not pay for it.
 */
final class ModelLoader {

  private static final Logger LOG = LoggerFactory.getLogger(ModelLoader.class);

  private final ScorerConfig config;

  ModelLoader(ScorerConfig config) {
    this.config = config;
  }

  /** How a version was loaded: whole (a full checkpoint or a delta's chain) or onto its parent. */
  enum Path {
    FULL,
    CHAIN,
    ONTO_PARENT
  }

  /** The loaded model and how it was loaded. */
  record Loaded(ServedModel model, Path path) {}

  ServedModel load(CheckpointPublished c) throws CheckpointLoader.Refused {
    return load(c, null).model();
  }

  /**
   * Loads {@code c}; a delta checkpoint onto {@code parent} when that is the very version it was
   * made on (leased by the caller, who releases it), so the swap costs the delta, not the chain.
   */
  Loaded load(CheckpointPublished c, ServedModel parent) throws CheckpointLoader.Refused {
    long started = System.nanoTime();
    ai.djl.Device device = Devices.resolve(config.device());
    if (parent != null) {
      var onto =
          CheckpointLoader.loadOnto(
              c,
              parent.model(),
              parent.version(),
              parent.checkpoint().getManifestSha256(),
              device,
              config.precision());
      if (onto.isPresent()) {
        LOG.info(
            "Loaded {}/{}/v{} ({}, delta {} MB) onto v{} in {} ms: digests verified, warmed up",
            c.getTenantId(),
            c.getModel(),
            c.getVersion(),
            c.getModelType(),
            String.format("%.2f", bytes(c) / 1e6),
            parent.version(),
            (System.nanoTime() - started) / 1_000_000);
        return new Loaded(new ServedModel(c, onto.get(), config), Path.ONTO_PARENT);
      }
    }
    RewardModel model = CheckpointLoader.load(c, device, config.precision());
    boolean delta = c.getFiles().stream().anyMatch(f -> f.getPath().equals(DELTA_FILE));
    LOG.info(
        "Loaded {}/{}/v{} ({}, {} MB{}) in {} ms: digests verified, warmed up",
        c.getTenantId(),
        c.getModel(),
        c.getVersion(),
        c.getModelType(),
        String.format("%.1f", bytes(c) / 1e6),
        delta ? ", a delta composed from its chain" : "",
        (System.nanoTime() - started) / 1_000_000);
    return new Loaded(new ServedModel(c, model, config), delta ? Path.CHAIN : Path.FULL);
  }

  static final String DELTA_FILE = io.prefstream.model.checkpoint.Manifest.DELTA_FILE;

  private static long bytes(CheckpointPublished c) {
    long bytes = 0;
    for (var f : c.getFiles()) {
      bytes += f.getSize();
    }
    return bytes;
  }
}
