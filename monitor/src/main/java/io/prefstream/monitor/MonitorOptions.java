package io.prefstream.monitor;

import static io.prefstream.config.ConfigOption.doubleOption;
import static io.prefstream.config.ConfigOption.durationOption;
import static io.prefstream.config.ConfigOption.intOption;
import static io.prefstream.config.ConfigOption.stringOption;

import io.prefstream.config.ConfigOption;
import io.prefstream.config.KafkaOptions;
import io.prefstream.http.ListenerOptions;
import java.time.Duration;
import java.util.List;

/**
 * The drift monitor's keys ({@code monitor.*}); thresholds are {@code
 * monitor.threshold.[TENANT.]METRIC.warn|alert}.
 */
public final class MonitorOptions {

  public static final ConfigOption<String> BOOTSTRAP_SERVERS =
      KafkaOptions.bootstrapServers("monitor");
  public static final ConfigOption<String> TOPIC_PREFIX = KafkaOptions.topicPrefix("monitor");

  /** The dashboard's listener: host, port, TLS keystore, and the separate /metrics listener. */
  public static final ListenerOptions LISTENER = new ListenerOptions("monitor", 8082);

  public static final ConfigOption<String> HOST = LISTENER.host();
  public static final ConfigOption<Integer> PORT = LISTENER.port();
  public static final ConfigOption<String> STATE_DIR =
      stringOption("monitor.state-dir", "monitor-state", "Kafka Streams state directory.");
  public static final ConfigOption<Duration> WINDOW =
      durationOption(
          "monitor.window", Duration.ofMinutes(1), Duration.ofSeconds(1), "Tumbling window size.");
  public static final ConfigOption<Duration> GRACE =
      durationOption(
          "monitor.grace",
          Duration.ofSeconds(10),
          Duration.ZERO,
          "How late (event time) a record may arrive and still count in its window.");
  public static final ConfigOption<Duration> STALE_AFTER =
      durationOption(
          "monitor.stale-after",
          Duration.ofMinutes(10),
          Duration.ofSeconds(1),
          "A figure no new window has reported for this long (an idle tenant, a retired model)"
              + " is stale: its level gauge reads NaN and it leaves /v1/alerts, so alerts on it"
              + " resolve.");
  public static final ConfigOption<Double> LEAVE_SHARE =
      doubleOption(
          "monitor.leave-share",
          0.8,
          0.01,
          1.0,
          "An alert level is left only below this share of its threshold (hysteresis).");

  public static final ConfigOption<String> MODEL_NAME =
      stringOption(
          "monitor.model-name", "reward", "Model whose serving champion concept drift judges.");
  public static final ConfigOption<Double> CONCEPT_DELTA =
      doubleOption(
          "monitor.concept-delta",
          0.01,
          0.0,
          1.0,
          "Page-Hinkley δ: accuracy drop per pair tolerated as noise.");
  public static final ConfigOption<Double> CONCEPT_LAMBDA =
      doubleOption(
          "monitor.concept-lambda",
          40.0,
          0.1,
          1e6,
          "Page-Hinkley λ: the alarm level (delay against false alarms).");
  public static final ConfigOption<Integer> CONCEPT_MIN_PAIRS =
      intOption(
          "monitor.concept-min-pairs",
          100,
          1,
          1_000_000,
          "HOLDOUT pairs of a champion before concept drift may be signalled.");

  public static final ConfigOption<Duration> LATE_AFTER =
      durationOption(
          "monitor.late-after",
          Duration.ofSeconds(5),
          Duration.ZERO,
          "An event this far behind its partition's newest event time counts as late (as the pair"
              + " builder's pairs.max-out-of-orderness).");
  public static final ConfigOption<Duration> DEDUP_WINDOW =
      durationOption(
          "monitor.dedup-window",
          Duration.ofHours(24),
          Duration.ofMinutes(1),
          "How long event ids, label fingerprints and annotators' labels are kept for the"
              + " duplicate and disagreement checks.");

  public static final List<ConfigOption<?>> ALL =
      LISTENER.and(
          List.of(
              BOOTSTRAP_SERVERS,
              TOPIC_PREFIX,
              STATE_DIR,
              WINDOW,
              GRACE,
              LEAVE_SHARE,
              STALE_AFTER,
              MODEL_NAME,
              CONCEPT_DELTA,
              CONCEPT_LAMBDA,
              CONCEPT_MIN_PAIRS,
              LATE_AFTER,
              DEDUP_WINDOW));

  private MonitorOptions() {}
}
