package io.prefstream.pairs;

import static io.prefstream.config.ConfigOption.choiceOption;
import static io.prefstream.config.ConfigOption.doubleOption;
import static io.prefstream.config.ConfigOption.durationOption;
import static io.prefstream.config.ConfigOption.intOption;
import static io.prefstream.config.ConfigOption.stringOption;

import io.prefstream.config.ConfigOption;
import io.prefstream.config.KafkaOptions;
import java.time.Duration;
import java.util.List;

/**
 * Every configuration key of the pair builder, typed and defaulted; read into {@link
 * PairBuilderConfig}. Keys under {@code flink.} go to Flink's own configuration unchanged (state
 * backend, restart strategy, checkpoint storage) and keys under {@code kafka.} to the Kafka
 * clients.
 */
public final class PairBuilderOptions {

  // Event time
  public static final ConfigOption<Duration> MAX_OUT_OF_ORDERNESS =
      durationOption(
          "pairs.max-out-of-orderness",
          Duration.ofSeconds(5),
          Duration.ZERO,
          "How far behind the newest event time of a partition an event may be and still be on time.");
  public static final ConfigOption<Duration> IDLE_TIMEOUT =
      durationOption(
          "pairs.idle-timeout",
          Duration.ofSeconds(10),
          Duration.ofMillis(1),
          "A partition with no records for this long stops holding the watermark back.");
  public static final ConfigOption<Duration> SESSION_GAP =
      durationOption(
          "pairs.session-gap",
          Duration.ofSeconds(30),
          Duration.ofMillis(1),
          "An interaction is final once the watermark passes its last event time plus this gap.");
  public static final ConfigOption<Duration> ALLOWED_LATENESS =
      durationOption(
          "pairs.allowed-lateness",
          Duration.ofMinutes(2),
          Duration.ZERO,
          "How long after an interaction is final its state is kept for late events.");
  public static final ConfigOption<Duration> STATE_TTL =
      durationOption(
          "pairs.state-ttl",
          Duration.ofHours(24),
          Duration.ofMinutes(1),
          "Processing-time backstop for interactions whose watermark never advances.");
  public static final ConfigOption<Integer> MAX_EVENTS_PER_INTERACTION =
      intOption(
          "pairs.max-events-per-interaction",
          1000,
          2,
          1_000_000,
          "Most events kept for one interaction; further events go to the dead-letter topic.");
  public static final ConfigOption<Duration> MAX_FUTURE_SKEW =
      durationOption(
          "pairs.max-future-skew",
          Duration.ofMinutes(5),
          Duration.ZERO,
          "How far beyond received_at occurred_at may lie (protects the watermark).");
  public static final ConfigOption<Integer> MAX_TEXT_CHARS =
      intOption(
          "pairs.max-text-chars", 65536, 1, 65536, "Longest prompt or response, in characters.");

  // Rules
  public static final ConfigOption<Double> HOLDOUT_SHARE =
      doubleOption(
          "pairs.holdout-share",
          0.05,
          0.0,
          1.0,
          "Share of interactions whose pairs are HOLDOUT (never trained on), by a stable hash.");
  public static final ConfigOption<Double> THUMB_WEIGHT =
      doubleOption("pairs.thumb-weight", 1.0, 0.0, 100.0, "Weight of an up-versus-down pair.");
  public static final ConfigOption<Double> RATING_WEIGHT =
      doubleOption(
          "pairs.rating-weight",
          1.0,
          0.0,
          100.0,
          "Weight of a rating pair at the full gap of the scale; smaller gaps weigh proportionally.");
  public static final ConfigOption<Double> RATING_MIN_GAP =
      doubleOption(
          "pairs.rating-min-gap",
          0.0,
          0.0,
          1.0,
          "Smallest normalised rating gap that makes a pair (0: any difference).");
  public static final ConfigOption<Double> IMPLICIT_WEIGHT =
      doubleOption(
          "pairs.implicit.weight", 0.2, 0.0, 100.0, "Weight of a pair from implicit signals.");
  public static final ConfigOption<Double> IMPLICIT_MIN_GAP =
      doubleOption(
          "pairs.implicit.min-utility-gap",
          1.0,
          0.0,
          1000.0,
          "Smallest implicit-utility difference that makes a pair.");
  public static final ConfigOption<Double> IMPLICIT_COUNT_CAP =
      doubleOption(
          "pairs.implicit.count-cap",
          3.0,
          0.0,
          1000.0,
          "A count signal (ACCEPT, COPY, ...) adds at most this many times its weight.");
  public static final ConfigOption<Duration> IMPLICIT_DWELL_PIVOT =
      durationOption(
          "pairs.implicit.dwell-pivot",
          Duration.ofSeconds(20),
          Duration.ofMillis(1),
          "Dwell time that counts as neutral; none counts -1, twice or more counts +1.");
  public static final ConfigOption<Double> IMPLICIT_ACCEPT = signalWeight("accept", 1.0);
  public static final ConfigOption<Double> IMPLICIT_COPY = signalWeight("copy", 1.0);
  public static final ConfigOption<Double> IMPLICIT_SHARE = signalWeight("share", 1.0);
  public static final ConfigOption<Double> IMPLICIT_DWELL = signalWeight("dwell", 1.0);
  public static final ConfigOption<Double> IMPLICIT_EDIT = signalWeight("edit", -1.0);
  public static final ConfigOption<Double> IMPLICIT_REGENERATE = signalWeight("regenerate", -1.0);
  public static final ConfigOption<Double> IMPLICIT_REPHRASE = signalWeight("rephrase", -0.5);
  public static final ConfigOption<Double> IMPLICIT_ABANDON = signalWeight("abandon", -1.0);

  // When an interaction's implicit pairs are first decided: the longest of its signals' kinds'
  // gaps after its last event (each at most pairs.session-gap). A later signal that reverses a pair
  // emits the corrected pair as a revision, so these only trade revisions for freshness. Edits come
  // in bursts; every other kind is a single act, reported when it happens.
  public static final ConfigOption<Duration> GAP_ACCEPT = signalGap("accept", 2);
  public static final ConfigOption<Duration> GAP_COPY = signalGap("copy", 2);
  public static final ConfigOption<Duration> GAP_SHARE = signalGap("share", 2);
  public static final ConfigOption<Duration> GAP_DWELL = signalGap("dwell", 2);
  public static final ConfigOption<Duration> GAP_EDIT = signalGap("edit", 10);
  public static final ConfigOption<Duration> GAP_REGENERATE = signalGap("regenerate", 2);
  public static final ConfigOption<Duration> GAP_REPHRASE = signalGap("rephrase", 2);
  public static final ConfigOption<Duration> GAP_ABANDON = signalGap("abandon", 2);

  // The job
  public static final ConfigOption<String> BOOTSTRAP_SERVERS =
      KafkaOptions.bootstrapServers("pairs");
  public static final ConfigOption<String> TOPIC_PREFIX = KafkaOptions.topicPrefix("pairs");
  public static final ConfigOption<String> GROUP_ID =
      stringOption(
          "pairs.group-id",
          "prefstream-pair-builder",
          "Consumer group the source commits its offsets under (for lag monitoring).");
  public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX =
      stringOption(
          "pairs.transactional-id-prefix",
          "prefstream-pair-builder",
          "Prefix of the sinks' Kafka transactional ids; unique per job on a cluster.");
  public static final ConfigOption<String> STARTING_OFFSETS =
      choiceOption(
          "pairs.starting-offsets",
          "committed",
          List.of("committed", "earliest", "latest"),
          "Where a job without a checkpoint starts reading (committed falls back to earliest).");
  public static final ConfigOption<Duration> CHECKPOINT_INTERVAL =
      durationOption(
          "pairs.checkpoint-interval",
          Duration.ofSeconds(1),
          Duration.ofMillis(100),
          "Checkpoint interval; pairs become visible to read_committed readers at checkpoints.");
  public static final ConfigOption<Duration> TRANSACTION_TIMEOUT =
      durationOption(
          "pairs.transaction-timeout",
          Duration.ofMinutes(10),
          Duration.ofSeconds(10),
          "Kafka transaction timeout: longer than a checkpoint plus a restart, at most the broker's"
              + " transaction.max.timeout.ms.");
  public static final ConfigOption<Integer> PARALLELISM =
      intOption(
          "pairs.parallelism", 0, 0, 10_000, "Job parallelism; 0 uses the cluster's default.");

  public static final ConfigOption<String> LOCAL_STATE_DIR =
      stringOption(
          "pairs.local-state-dir",
          "pair-builder-state",
          "Where the job run on a MiniCluster in its own process (PairBuilderMain, prefstream run"
              + " pair-builder, the local stack) keeps its Flink checkpoints; a restart over it"
              + " resumes from the newest. A job submitted to a Flink cluster ignores it.");

  public static final ConfigOption<String> LOCAL_REST_ADDRESS =
      stringOption(
          "pairs.local-rest-address",
          "127.0.0.1",
          "Interface of the REST endpoint of the Flink MiniCluster the job runs on in its own"
              + " process (as pairs.local-state-dir): it has no authentication and can cancel the"
              + " job, so this machine only by default.");

  public static final List<ConfigOption<?>> ALL =
      List.of(
          MAX_OUT_OF_ORDERNESS,
          IDLE_TIMEOUT,
          SESSION_GAP,
          ALLOWED_LATENESS,
          STATE_TTL,
          MAX_EVENTS_PER_INTERACTION,
          MAX_FUTURE_SKEW,
          MAX_TEXT_CHARS,
          HOLDOUT_SHARE,
          THUMB_WEIGHT,
          RATING_WEIGHT,
          RATING_MIN_GAP,
          IMPLICIT_WEIGHT,
          IMPLICIT_MIN_GAP,
          IMPLICIT_COUNT_CAP,
          IMPLICIT_DWELL_PIVOT,
          IMPLICIT_ACCEPT,
          IMPLICIT_COPY,
          IMPLICIT_SHARE,
          IMPLICIT_DWELL,
          IMPLICIT_EDIT,
          IMPLICIT_REGENERATE,
          IMPLICIT_REPHRASE,
          IMPLICIT_ABANDON,
          GAP_ACCEPT,
          GAP_COPY,
          GAP_SHARE,
          GAP_DWELL,
          GAP_EDIT,
          GAP_REGENERATE,
          GAP_REPHRASE,
          GAP_ABANDON,
          BOOTSTRAP_SERVERS,
          TOPIC_PREFIX,
          GROUP_ID,
          TRANSACTIONAL_ID_PREFIX,
          STARTING_OFFSETS,
          CHECKPOINT_INTERVAL,
          TRANSACTION_TIMEOUT,
          PARALLELISM,
          LOCAL_STATE_DIR,
          LOCAL_REST_ADDRESS);

  private PairBuilderOptions() {}

  private static ConfigOption<Duration> signalGap(String kind, int seconds) {
    return durationOption(
        "pairs.session-gap." + kind,
        Duration.ofSeconds(seconds),
        Duration.ZERO,
        "When an interaction whose implicit signals include "
            + kind.toUpperCase(java.util.Locale.ROOT)
            + " has its implicit pairs decided: this long after its last event (the longest of"
            + " its kinds' gaps holds; at most pairs.session-gap, which a default above it"
            + " follows; 0: the session gap). A later signal that reverses a pair emits the"
            + " corrected pair, flagged REVISES.");
  }

  private static ConfigOption<Double> signalWeight(String kind, double defaultValue) {
    return doubleOption(
        "pairs.implicit." + kind,
        defaultValue,
        -100.0,
        100.0,
        "Implicit utility weight of a " + kind.toUpperCase(java.util.Locale.ROOT) + " signal.");
  }
}
