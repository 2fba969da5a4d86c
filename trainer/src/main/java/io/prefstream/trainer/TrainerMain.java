package io.prefstream.trainer;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.config.Settings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs the online trainer alone, as its own process: {@code TrainerMain [--config FILE] [key=value
 * ...]} with {@code trainer.*}, {@code model.*} and {@code kafka.*} keys (environment variables
 * {@code PREFSTREAM_TRAINER_...} too). Stops cleanly on SIGTERM with a last checkpoint.
 */
public final class TrainerMain {

  private TrainerMain() {}

  public static void main(String[] args) throws Exception {
    Settings settings = Settings.fromEnv(System.getenv(), TrainerOptions.ALL);
    Map<String, String> overrides = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        settings = settings.overriddenBy(Settings.fromFile(Path.of(args[++i])));
      } else if (args[i].contains("=")) {
        String[] kv = args[i].split("=", 2);
        overrides.put(kv[0], kv[1]);
      } else {
        throw new IllegalArgumentException(
            "expected --config FILE or key=value, got '" + args[i] + "'");
      }
    }
    TrainerConfig config = TrainerConfig.from(settings.overriddenBy(Settings.of(overrides)));
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
