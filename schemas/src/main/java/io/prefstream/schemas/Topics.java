package io.prefstream.schemas;

import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.DriftReport;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.RolloutState;
import io.prefstream.avro.ScoreRecord;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.avro.specific.SpecificRecord;

/**
 * Every prefstream topic, defined once under a configurable prefix (default {@code prefstream}).
 * Anyone who needs a topic name or serde takes it from here.
 */
public final class Topics {

  public static final String DEFAULT_PREFIX = "prefstream";
  private static final Pattern LEGAL_PREFIX = Pattern.compile("[a-zA-Z0-9._-]{1,200}");

  private final String prefix;
  private final Topic<FeedbackEvent> feedback;
  private final Topic<DeadLetter> feedbackDlq;
  private final Topic<PreferencePair> pairs;
  private final Topic<CheckpointPublished> checkpoints;
  private final Topic<RolloutState> rollouts;
  private final Topic<ScoreRecord> scores;
  private final Topic<DriftReport> drift;

  private Topics(String prefix) {
    if (!LEGAL_PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException(
          "Topic prefix must be 1-200 characters of [a-zA-Z0-9._-], got '" + prefix + "'");
    }
    this.prefix = prefix;
    // All events of an interaction share a partition; three partitions let a 2-core laptop and a
    // small cluster both parallelise. Registries (checkpoints, rollouts) are single-partition and
    // compacted so that one reader sees every key in order.
    this.feedback =
        topic(
            "feedback",
            FeedbackEvent.class,
            e -> key(e.getTenantId(), e.getInteractionId()),
            3,
            retention(Duration.ofDays(7)));
    this.feedbackDlq =
        topic(
            "feedback.dlq",
            DeadLetter.class,
            d -> d.getSourceId() != null ? d.getSourceId() : d.getSource(),
            1,
            retention(Duration.ofDays(30)));
    this.pairs =
        topic(
            "pairs",
            PreferencePair.class,
            p -> key(p.getTenantId(), p.getPairId()),
            3,
            // Each record's timestamp is when the broker appended it (a pair's event time is in
            // the record): how far a served model lies behind the pairs is read from it.
            with(retention(Duration.ofDays(30)), "message.timestamp.type", "LogAppendTime"));
    this.checkpoints =
        topic(
            "checkpoints",
            CheckpointPublished.class,
            c -> key(c.getTenantId(), c.getModel(), Long.toString(c.getVersion())),
            1,
            compacted());
    this.rollouts =
        topic(
            "rollouts",
            RolloutState.class,
            r -> key(r.getTenantId(), r.getModel()),
            1,
            compacted());
    this.scores =
        topic(
            "scores",
            ScoreRecord.class,
            s -> key(s.getTenantId(), s.getModel(), Long.toString(s.getVersion())),
            3,
            retention(Duration.ofDays(3)));
    this.drift =
        topic(
            "drift",
            DriftReport.class,
            d -> key(d.getTenantId(), d.getModel(), d.getMetric()),
            1,
            retention(Duration.ofDays(30)));
  }

  public static Topics withPrefix(String prefix) {
    return new Topics(prefix);
  }

  public static Topics defaults() {
    return new Topics(DEFAULT_PREFIX);
  }

  public String prefix() {
    return prefix;
  }

  public Topic<FeedbackEvent> feedback() {
    return feedback;
  }

  public Topic<DeadLetter> feedbackDlq() {
    return feedbackDlq;
  }

  public Topic<PreferencePair> pairs() {
    return pairs;
  }

  public Topic<CheckpointPublished> checkpoints() {
    return checkpoints;
  }

  public Topic<RolloutState> rollouts() {
    return rollouts;
  }

  public Topic<ScoreRecord> scores() {
    return scores;
  }

  public Topic<DriftReport> drift() {
    return drift;
  }

  /** All topics in data-flow order. */
  public List<Topic<?>> all() {
    return List.of(feedback, feedbackDlq, pairs, checkpoints, rollouts, scores, drift);
  }

  /** The topic with this full name ({@code prefstream.pairs}) or short name ({@code pairs}). */
  public Optional<Topic<?>> find(String name) {
    return all().stream()
        .filter(t -> t.name().equals(name) || t.shortName().equals(name))
        .findFirst();
  }

  private <V extends SpecificRecord> Topic<V> topic(
      String shortName,
      Class<V> type,
      Function<V, String> keyOf,
      int partitions,
      Map<String, String> configs) {
    return new Topic<>(
        prefix + "." + shortName,
        shortName,
        type,
        new AvroSerde<>(type),
        JsonForm.of(type),
        keyOf,
        partitions,
        configs);
  }

  /** Keys join their parts with '/': tenant/interaction_id, tenant/model/version, ... */
  private static String key(String... parts) {
    return String.join("/", parts);
  }

  private static Map<String, String> retention(Duration retention) {
    return Map.of("cleanup.policy", "delete", "retention.ms", Long.toString(retention.toMillis()));
  }

  private static Map<String, String> with(Map<String, String> configs, String key, String value) {
    Map<String, String> all = new java.util.HashMap<>(configs);
    all.put(key, value);
    return Map.copyOf(all);
  }

  private static Map<String, String> compacted() {
    // Keep every key's latest value forever; compact soon so that restarts replay little.
    return Map.of(
        "cleanup.policy", "compact",
        "min.cleanable.dirty.ratio", "0.1",
        "segment.ms", Long.toString(Duration.ofHours(1).toMillis()));
  }
}
