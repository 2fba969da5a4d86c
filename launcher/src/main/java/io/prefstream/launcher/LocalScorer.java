package io.prefstream.launcher;

import io.prefstream.config.Settings;
import io.prefstream.ingest.ApiKeys;
import io.prefstream.schemas.Topics;
import io.prefstream.scorer.ScorerConfig;
import io.prefstream.scorer.ScorerOptions;
import io.prefstream.scorer.ScorerServer;
import java.time.Duration;
import java.util.Map;

/**
 * The scorer (and a rollout controller) in this process, as {@code up} and {@code demo} run it,
 * against the local broker; {@code scorer.*} and {@code rollout.*} keys come from the config file
 * and {@code PREFSTREAM_SCORER_*} / {@code PREFSTREAM_ROLLOUT_*} variables.
 */
final class LocalScorer {

  private LocalScorer() {}

  static ScorerServer start(String bootstrap, Topics topics, Settings settings, int port) {
    Settings merged =
        settings
            .overriddenBy(Settings.fromEnv(System.getenv(), ScorerOptions.WITH_MODEL))
            .overriddenBy(
                Settings.of(
                    Map.of(
                        ScorerOptions.BOOTSTRAP_SERVERS.key(), bootstrap,
                        ScorerOptions.TOPIC_PREFIX.key(), topics.prefix(),
                        ScorerOptions.PORT.key(), Integer.toString(port))));
    ScorerConfig config;
    ApiKeys keys;
    try {
      config = ScorerConfig.from(merged);
      keys = ApiKeys.fromEnvironment(System.getenv());
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
    ScorerServer scorer;
    try {
      scorer = new ScorerServer(config, keys).start();
    } catch (RuntimeException e) {
      throw new UserError("the scorer could not start on port " + port + ": " + e.getMessage(), e);
    }
    try {
      if (!scorer.awaitReady(Duration.ofSeconds(60))) {
        scorer.close();
        throw new UserError("the scorer did not read the model registry within 60 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      scorer.close();
      throw new UserError("interrupted while starting the scorer", e);
    }
    return scorer;
  }
}
