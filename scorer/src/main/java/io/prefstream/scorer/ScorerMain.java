package io.prefstream.scorer;

import io.prefstream.config.Settings;
import io.prefstream.ingest.ApiKeys;
import io.prefstream.model.Devices;
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
    ScorerConfig config =
        ScorerConfig.from(
            Settings.fromArgs(Settings.fromEnv(System.getenv(), ScorerOptions.WITH_MODEL), args));
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
