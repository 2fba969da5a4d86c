package io.prefstream.scorer;

import static io.prefstream.config.ConfigOption.doubleOption;
import static io.prefstream.config.ConfigOption.durationOption;
import static io.prefstream.config.ConfigOption.intOption;
import static io.prefstream.config.ConfigOption.stringOption;

import io.prefstream.config.ConfigOption;
import io.prefstream.config.KafkaOptions;
import io.prefstream.http.ListenerOptions;
import io.prefstream.http.QuotaOptions;
import io.prefstream.model.ModelOptions;
import io.prefstream.scorer.rollout.RolloutPolicy;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * Every configuration key of the scorer ({@code scorer.*}) and its rollout controller ({@code
 * rollout.*}), typed and defaulted; read into {@link ScorerConfig}. Keys under {@code kafka.} go to
 * the Kafka clients unchanged.
 */
public final class ScorerOptions {

  public static final ConfigOption<String> BOOTSTRAP_SERVERS =
      KafkaOptions.bootstrapServers("scorer");
  public static final ConfigOption<String> TOPIC_PREFIX = KafkaOptions.topicPrefix("scorer");

  /** The API's listener: host, port, TLS keystore, and the separate /metrics listener. */
  public static final ListenerOptions LISTENER = new ListenerOptions("scorer", 8081);

  public static final ConfigOption<String> HOST = LISTENER.host();
  public static final ConfigOption<Integer> PORT = LISTENER.port();
  public static final ConfigOption<Integer> HTTP_THREADS =
      intOption("scorer.http-threads", 32, 4, 1024, "Most HTTP worker threads.");
  public static final ConfigOption<String> MODEL_NAME =
      stringOption(
          "scorer.model-name", "reward", "Model served when a request names none (as trained).");
  public static final ConfigOption<String> SHARED_MODEL =
      stringOption(
          "scorer.shared-model",
          "",
          "When set, every tenant is served the model trained under this tenant name (as"
              + " trainer.shared-model); when empty, each tenant its own.");
  public static final ConfigOption<Integer> MAX_RESPONSES =
      intOption("scorer.max-responses", 64, 1, 4096, "Most responses in one request.");
  public static final ConfigOption<Integer> MAX_CHARS =
      intOption(
          "scorer.max-chars", 32_768, 1, 10_000_000, "Longest prompt or response, in characters.");
  public static final ConfigOption<Integer> MAX_BATCH =
      intOption(
          "scorer.max-batch",
          256,
          1,
          65536,
          "Most candidates (prompt, response) scored in one model call; concurrent requests are"
              + " batched up to this.");
  public static final ConfigOption<Integer> QUEUE_CAPACITY =
      intOption(
          "scorer.queue-capacity",
          2048,
          1,
          10_000_000,
          "Most candidates waiting per model; a request that does not fit is answered 429.");
  public static final ConfigOption<Integer> WORKERS =
      intOption(
          "scorer.workers", 1, 1, 256, "Threads calling each served model (each takes a batch).");
  public static final ConfigOption<Double> SCORE_SAMPLE =
      doubleOption(
          "scorer.score-sample",
          0.1,
          0.0,
          1.0,
          "Share of served scores written to prefstream.scores (for drift monitoring).");
  public static final ConfigOption<Duration> REQUEST_TIMEOUT =
      durationOption(
          "scorer.request-timeout",
          Duration.ofSeconds(10),
          Duration.ofMillis(10),
          "A request not scored within this is answered 503.");

  public static final ConfigOption<String> ROLLOUT_STEPS =
      stringOption(
          "rollout.steps",
          RolloutPolicy.DEFAULT_STEPS,
          "Candidate traffic shares a rollout steps through; 0 is shadow (scored, not served); the"
              + " last must be 1 (promotion).");
  public static final ConfigOption<Integer> ROLLOUT_FOLLOW =
      intOption(
          "rollout.follow",
          1,
          0,
          1,
          "1: a newer checkpoint that descends from the candidate replaces it on its arm once the"
              + " serving version has had rollout.min-pairs fresh pairs of its own, at every step"
              + " but the last before promotion (the arm serves the trainer's newest model within"
              + " seconds); the arm steps on its versions' evidence together, each pair judged by"
              + " the version it is fresh for. 0: one checkpoint per rollout.");
  public static final ConfigOption<Integer> ROLLOUT_MIN_PAIRS =
      intOption(
          "rollout.min-pairs",
          200,
          1,
          10_000_000,
          "Fresh pairs (TRAIN and HOLDOUT, committed after the candidate was announced) that must"
              + " arrive during a step before the next is taken: each step's dwell.");
  public static final ConfigOption<Integer> ROLLOUT_MAX_PAIRS =
      intOption(
          "rollout.max-pairs",
          5000,
          1,
          100_000_000,
          "A step neither shown non-inferior nor worse after this many fresh pairs is rolled back"
              + " as inconclusive.");
  public static final ConfigOption<Double> ROLLOUT_TOLERANCE =
      doubleOption(
          "rollout.tolerance",
          0.02,
          0.0,
          1.0,
          "Non-inferiority margin: a step is taken once the always-valid lower bound on the"
              + " candidate's paired accuracy difference from the champion (same pairs) is at least"
              + " minus this.");
  public static final ConfigOption<Double> ROLLOUT_ALPHA =
      doubleOption(
          "rollout.alpha",
          0.01,
          1e-9,
          0.5,
          "Error of each one-sided always-valid bound on the paired accuracy difference, at every"
              + " look: a candidate as good as the champion is rolled back, and one worse than the"
              + " margin shown non-inferior, with at most this probability.");
  public static final ConfigOption<Double> ROLLOUT_MIN_SPREAD =
      doubleOption(
          "rollout.min-score-spread",
          1e-4,
          0.0,
          1e6,
          "A candidate whose raw scores' standard deviation on fresh responses is below this has"
              + " collapsed and is rolled back.");
  public static final ConfigOption<Double> ROLLOUT_MAX_PSI =
      doubleOption(
          "rollout.max-psi",
          0.5,
          0.0,
          100.0,
          "Most population-stability index between the candidate's and the champion's normalised"
              + " scores on the same responses; beyond it the candidate is rolled back.");
  public static final ConfigOption<Integer> ROLLOUT_CONTROLLER =
      intOption(
          "rollout.controller",
          1,
          0,
          1,
          "1: this replica offers to run the rollout controller (one of all replicas does, by a"
              + " Kafka consumer group); 0: it only serves.");

  public static final ConfigOption<Double> QUOTA_CANDIDATES =
      doubleOption(
          "scorer.quota.candidates-per-second",
          1000,
          0,
          1e9,
          "Responses a second each tenant may have scored (token bucket; 429 with Retry-After"
              + " beyond); scorer.quota.tenant.TENANT.candidates-per-second sets one tenant's; 0:"
              + " no limit.");

  /** Per-tenant quotas: candidates scored a second, the burst, and the per-tenant keys. */
  public static final QuotaOptions QUOTAS =
      new QuotaOptions(
          "scorer",
          Duration.ofSeconds(5),
          new QuotaOptions.Resource("candidates", QUOTA_CANDIDATES));

  public static final List<ConfigOption<?>> ALL =
      LISTENER.and(
          List.of(
              BOOTSTRAP_SERVERS,
              TOPIC_PREFIX,
              HTTP_THREADS,
              MODEL_NAME,
              SHARED_MODEL,
              MAX_RESPONSES,
              MAX_CHARS,
              MAX_BATCH,
              QUEUE_CAPACITY,
              WORKERS,
              SCORE_SAMPLE,
              REQUEST_TIMEOUT,
              ROLLOUT_STEPS,
              ROLLOUT_MIN_PAIRS,
              ROLLOUT_MAX_PAIRS,
              ROLLOUT_TOLERANCE,
              ROLLOUT_ALPHA,
              ROLLOUT_MIN_SPREAD,
              ROLLOUT_MAX_PSI,
              ROLLOUT_FOLLOW,
              ROLLOUT_CONTROLLER,
              QUOTA_CANDIDATES,
              QUOTAS.burst()));

  /**
   * Every key a scorer reads: its own and the process keys of the models it runs ({@code
   * model.device}, {@code model.engine-threads}).
   */
  public static final List<ConfigOption<?>> WITH_MODEL =
      Stream.concat(ALL.stream(), ModelOptions.PROCESS.stream()).toList();

  private ScorerOptions() {}
}
