package io.prefstream.trainer;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.config.Settings;

/**
 * Runs the online trainer alone, as its own process: {@code TrainerMain [--config FILE] [key=value
 * ...]} with {@code trainer.*}, {@code model.*} and {@code kafka.*} keys (environment variables
 * {@code PREFSTREAM_TRAINER_...} too). Stops cleanly on SIGTERM with a last checkpoint.
 */
public final class TrainerMain {

  private TrainerMain() {}

  public static void main(String[] args) throws Exception {
    TrainerConfig config =
        TrainerConfig.from(
            Settings.fromArgs(Settings.fromEnv(System.getenv(), TrainerOptions.WITH_MODEL), args));
    OnlineTrainer trainer =
        OnlineTrainer.kafka(config, new TrainerMetrics(new SimpleMeterRegistry()));
    Thread main = Thread.currentThread();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  trainer.stop();
                  try {
                    main.join(30_000);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }));
    try (trainer) {
      trainer.run();
    }
  }
}
