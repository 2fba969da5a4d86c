package io.prefstream.scorer;

import io.prefstream.config.KafkaConnection;
import io.prefstream.config.Settings;
import io.prefstream.http.ApiKeys;
import io.prefstream.model.Devices;
import io.prefstream.service.ServiceException;
import io.prefstream.service.Services;
import java.time.Duration;

/**
 * Runs a scorer replica alone, as its own process: {@code ScorerMain [--config FILE] [key=value
 * ...]} with {@code scorer.*}, {@code rollout.*}, {@code model.device}, {@code
 * model.engine-threads} and {@code kafka.*} keys (environment variables {@code
 * PREFSTREAM_SCORER_...} too); API keys from {@code PREFSTREAM_API_KEYS}. Several replicas share
 * the rollout state through Kafka. {@code prefstream run scorer} starts it by {@link #start}.
 */
public final class ScorerMain {

  /** How long a scorer may take to read the model registry and rollouts before it is ready. */
  public static final Duration READY_WITHIN = Duration.ofSeconds(60);

  private ScorerMain() {}

  public static void main(String[] args) {
    Services.main(
        "scorer",
        () ->
            start(
                Settings.fromArgs(
                    Settings.fromEnv(System.getenv(), ScorerOptions.WITH_MODEL), args)));
  }

  /**
   * A scorer alone in its process, from fully merged settings: the engine's threads are all its own
   * ({@code model.engine-threads}), API keys come from the environment.
   *
   * @throws ServiceException naming the bad setting, the port in use, or a registry not read
   */
  public static ScorerServer start(Settings settings) {
    ScorerConfig config;
    ApiKeys keys;
    try {
      config = ScorerConfig.from(settings);
      keys = ApiKeys.fromEnvironment(System.getenv());
    } catch (IllegalArgumentException e) {
      throw new ServiceException(e.getMessage(), e);
    }
    Devices.useEngineThreads(config.engineThreads(), "transformer"); // serving: every core
    return serve(config, keys);
  }

  /**
   * Starts a scorer and waits until it has read the registries, so its routing reflects every
   * rollout decision (a local stack's scorer, which shares the engine with a trainer, comes in
   * here).
   *
   * @throws ServiceException when the port is taken or the registries are not read in time
   */
  public static ScorerServer serve(ScorerConfig config, ApiKeys keys) {
    KafkaConnection.requireAtStart("the scorer", config.bootstrapServers(), config.kafka());
    ScorerServer scorer;
    try {
      scorer = new ScorerServer(config, keys).start();
    } catch (RuntimeException e) {
      throw new ServiceException(
          "the scorer could not start on port " + config.port() + ": " + e.getMessage(), e);
    }
    try {
      if (!scorer.awaitReady(READY_WITHIN)) {
        scorer.close();
        throw new ServiceException(
            "the scorer did not read the model registry within " + READY_WITHIN.toSeconds() + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      scorer.close();
      throw new ServiceException("interrupted while starting the scorer", e);
    }
    return scorer;
  }
}
