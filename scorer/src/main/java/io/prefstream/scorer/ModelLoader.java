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

  ServedModel load(CheckpointPublished c) throws CheckpointLoader.Refused {
    long started = System.nanoTime();
    RewardModel model =
        CheckpointLoader.load(c, Devices.resolve(config.device()), config.precision());
    long bytes = 0;
    for (var f : c.getFiles()) {
      bytes += f.getSize();
    }
    LOG.info(
        "Loaded {}/{}/v{} ({}, {} MB) in {} ms: digests verified, warmed up",
        c.getTenantId(),
        c.getModel(),
        c.getVersion(),
        c.getModelType(),
        String.format("%.1f", bytes / 1e6),
        (System.nanoTime() - started) / 1_000_000);
    return new ServedModel(c, model, config);
  }
}
