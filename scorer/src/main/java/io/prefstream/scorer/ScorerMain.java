package io.prefstream.scorer;

import io.prefstream.config.Settings;
import io.prefstream.ingest.ApiKeys;
import io.prefstream.model.Devices;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs a scorer replica alone, as its own process: {@code ScorerMain [--config FILE] [key=value
 * ...]} with {@code scorer.*}, {@code rollout.*}, {@code model.device}, {@code
 * model.engine-threads} and {@code kafka.*} keys (environment variables {@code
 * PREFSTREAM_SCORER_...} too); API keys from {@code PREFSTREAM_API_KEYS}. Several replicas share
 * the rollout state through Kafka.
 */
public final class ScorerMain {

  private ScorerMain() {}

  public static void main(String[] args) throws Exception {
    Settings settings = Settings.fromEnv(System.getenv(), ScorerOptions.ALL);
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
    ScorerConfig config = ScorerConfig.from(settings.overriddenBy(Settings.of(overrides)));
    Devices.useEngineThreads(config.engineThreads(), "transformer"); // serving: every core
    ScorerServer scorer = new ScorerServer(config, ApiKeys.fromEnvironment(System.getenv()));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  scorer.close();
                  stopped.countDown();
                }));
    scorer.start();
    stopped.await();
  }
}
