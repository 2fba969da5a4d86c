package io.prefstream.monitor;

import io.micrometer.core.instrument.MeterRegistry;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.DriftReport;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.Histogram;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.ScoreRecord;
import io.prefstream.avro.Split;
import io.prefstream.monitor.stats.Drift;
import io.prefstream.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The drift monitor's Kafka Streams topology, in tumbling event-time windows:
 *
 * <ul>
 *   <li>score drift per model version: the served raw scores against the checkpoint's reference
 *       histogram (PSI and binned KS), and the Spearman correlation of reward with response length
 *       (a reward-hacking sign);
 *   <li>input and label drift per tenant against a decayed reference of about the last hour ({@link
 *       InputDrift}, {@link LongerWins});
 *   <li>data quality per tenant: dead-letter, duplicate and late rates and annotator disagreement
 *       ({@link DataQuality});
 *   <li>concept drift: the serving champion's accuracy on fresh HOLDOUT pairs under a Page-Hinkley
 *       test ({@link ConceptDrift}).
 * </ul>
 *
 * Each figure becomes a {@link DriftReport} on {@code prefstream.drift} with its level after
 * hysteresis; the latest report of each metric is queryable in a store.
 */
public final class MonitorTopology {

  /** Store of the latest report per tenant/model/metric (interactive queries). */
  public static final String LATEST = "drift-latest";

  static final String WINDOWS = "score-windows";
  public static final String CHECKPOINTS = "checkpoints";
  public static final String ROLLOUTS = "rollouts";
  static final String FEEDBACK_WINDOWS = "feedback-windows";
  static final String PAIR_WINDOWS = "pair-windows";
  static final String ARRIVAL_WINDOWS = "arrival-windows";
  static final String LONGER_REFERENCES = "longer-references";
  static final String REFERENCES = "feedback-references";

  /** The span the decayed input reference covers: about the last hour. */
  static final Duration REFERENCE_SPAN = Duration.ofHours(1);

  /** Model name of reports about a tenant's inputs and labels rather than one model. */
  public static final String INPUTS = "inputs";

  static final String LEVELS = "drift-levels";

  /**
   * How concept drift is judged.
   *
   * @param modelName the model whose serving champion is judged
   * @param delta Page-Hinkley δ: accuracy drop per pair tolerated as noise
   * @param lambda Page-Hinkley λ: the statistic's alarm level
   * @param minPairs pairs before the test may signal
   */
  public record Concept(String modelName, double delta, double lambda, long minPairs) {
    public static Concept defaults() {
      return new Concept("reward", 0.01, 40, 100);
    }
  }

  /**
   * How the data-quality checks judge.
   *
   * @param lateAfter how far behind its partition's newest event time an event may be and still be
   *     on time (as the pair builder's {@code pairs.max-out-of-orderness})
   * @param dedupWindow how long event ids, label fingerprints and annotators' labels are kept
   */
  public record Quality(Duration lateAfter, Duration dedupWindow) {
    public static Quality defaults() {
      return new Quality(Duration.ofSeconds(5), Duration.ofHours(24));
    }
  }

  private final MonitorConfig config;
  private final Topics topics;
  private final MeterRegistry meters;
  private final ScoreArms arms;

  /**
   * The topology of {@code config}, counting in {@code meters} the feedback by tenant and signal
   * kind ({@code prefstream.monitor.events}), dead letters, and pairs by tenant, source and split
   * ({@code prefstream.monitor.pairs}), and keeping the latest served scores by arm ({@link
   * #arms()}) for the dashboard.
   */
  public MonitorTopology(MonitorConfig config, MeterRegistry meters) {
    this.config = config;
    this.topics = Topics.withPrefix(config.topicPrefix());
    this.meters = meters;
    this.arms = new ScoreArms(meters);
  }

  /** The latest served scores by arm, as the score-drift pipeline sees them. */
  public ScoreArms arms() {
    return arms;
  }

  /**
   * The Kafka Streams settings of the monitor: its application id ({@code PREFIX.monitor}), broker,
   * state directory, a 1 s commit interval, and the {@code kafka.*} keys.
   */
  public static Properties streamsConfig(MonitorConfig config) {
    Properties p = new Properties();
    p.putAll(config.kafka());
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, config.topicPrefix() + ".monitor");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    p.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toAbsolutePath().toString());
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "1000");
    return p;
  }

  /**
   * The whole topology: score drift, feedback quality and input drift, concept drift, and the
   * reward-hacking sign in pairs, each a pipeline of its own whose reports meet in {@link #levels}.
   */
  public Topology buildTopology(StreamsBuilder b) {
    // Built in this order so the topology's generated names (and so its tasks and internal
    // topics) are those it had as one method: a restart over old state finds its stores.
    stores(b);
    GlobalKTable<String, CheckpointPublished> checkpoints = registries(b);
    KStream<String, DriftReport> scores = scoreDrift(b, checkpoints);
    KStream<String, DriftReport> feedback = feedbackQuality(b);
    KStream<String, PreferencePair> pairs = pairs(b);
    KStream<String, DriftReport> concept = conceptDrift(pairs);
    KStream<String, DriftReport> longer = longerWins(pairs);
    levels(lengthPreference(scores.merge(feedback).merge(concept).merge(longer)));
    return b.build();
  }

  /** The stores the processors share by name. */
  private void stores(StreamsBuilder b) {
    Duration dedup = config.quality().dedupWindow();
    b.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(DataQuality.EVENT_TIME),
            Serdes.String(),
            Serdes.Long()));
    b.addStateStore(
        Stores.windowStoreBuilder(
            Stores.persistentWindowStore(DataQuality.SEEN, dedup, dedup, false),
            Serdes.String(),
            Serdes.Long()));
    b.addStateStore(
        Stores.windowStoreBuilder(
            Stores.persistentWindowStore(DataQuality.LABELS, dedup, dedup, false),
            Serdes.String(),
            Serdes.ByteArray()));
    b.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(LONGER_REFERENCES),
            Serdes.String(),
            ConceptDrift.DOUBLES));
    b.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(ConceptDrift.STATE),
            Serdes.String(),
            ConceptDrift.DOUBLES));
    b.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(REFERENCES), Serdes.String(), FeedbackWindow.SERDE));
    b.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(LengthPreference.LABEL_SHARES),
            Serdes.String(),
            ConceptDrift.DOUBLES));
    b.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(LEVELS), Serdes.String(), Serdes.String()));
    b.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(LATEST), Serdes.String(), topics.drift().valueSerde()));
  }

  /** The compacted registries as global tables: checkpoints (joined) and rollouts (queried). */
  private GlobalKTable<String, CheckpointPublished> registries(StreamsBuilder b) {
    GlobalKTable<String, CheckpointPublished> checkpoints =
        b.globalTable(
            topics.checkpoints().name(),
            Consumed.with(Serdes.String(), topics.checkpoints().valueSerde()),
            Materialized.as(CHECKPOINTS));
    b.globalTable(
        topics.rollouts().name(),
        Consumed.with(Serdes.String(), topics.rollouts().valueSerde()),
        Materialized.as(ROLLOUTS));
    return checkpoints;
  }

  /**
   * Score drift per model version: served scores against the checkpoint's reference histogram, and
   * reward against response length, per closed window.
   */
  private KStream<String, DriftReport> scoreDrift(
      StreamsBuilder b, GlobalKTable<String, CheckpointPublished> checkpoints) {
    return b.stream(
            topics.scores().name(),
            Consumed.with(Serdes.String(), topics.scores().valueSerde())
                .withTimestampExtractor(
                    (record, partition) ->
                        record.value() instanceof ScoreRecord s
                            ? s.getAt().toEpochMilli()
                            : partition))
        .peek(
            (key, s) -> {
              if (s != null) {
                arms.add(s);
              }
            })
        .leftJoin(
            checkpoints,
            (key, s) -> s.getTenantId() + "/" + s.getModel() + "/" + s.getVersion(),
            (s, c) -> new Scored(s, c == null ? null : c.getReferenceHistogram()))
        // Scores are keyed tenant/model/version already: grouped without a repartition.
        .groupByKey(Grouped.with(Serdes.String(), Scored.SERDE))
        .windowedBy(TimeWindows.ofSizeAndGrace(config.window(), config.grace()))
        .aggregate(
            ScoreWindow::new,
            (key, v, w) -> w.add(v.score(), edges(v.reference()), counts(v.reference())),
            Materialized.<String, ScoreWindow, WindowStore<Bytes, byte[]>>as(WINDOWS)
                .withKeySerde(Serdes.String())
                .withValueSerde(ScoreWindow.SERDE))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .flatMap((key, w) -> reports(key, w));
  }

  /**
   * Feedback quality and input drift per tenant: events (late ones marked) and dead letters,
   * checked for duplicates and annotator disagreement, per closed window against the tenant's
   * decayed reference ({@link InputDrift}).
   */
  private KStream<String, DriftReport> feedbackQuality(StreamsBuilder b) {
    KStream<String, Signal> events =
        b.stream(
                topics.feedback().name(),
                Consumed.with(Serdes.String(), topics.feedback().valueSerde())
                    .withTimestampExtractor(
                        (record, partition) ->
                            record.value() instanceof FeedbackEvent e
                                ? e.getOccurredAt().toEpochMilli()
                                : partition))
            .peek(
                (key, e) ->
                    meters
                        .counter(
                            "prefstream.monitor.events",
                            "tenant",
                            e.getTenantId(),
                            "kind",
                            FeedbackWindow.kind(e))
                        .increment())
            .mapValues(e -> new Signal(e, null))
            .processValues(
                () -> new DataQuality.Lateness(config.quality().lateAfter()),
                DataQuality.EVENT_TIME);
    KStream<String, Signal> deadLetters =
        b.stream(
                topics.feedbackDlq().name(),
                Consumed.with(Serdes.String(), topics.feedbackDlq().valueSerde())
                    .withTimestampExtractor(
                        (record, partition) ->
                            record.value() instanceof DeadLetter d
                                ? d.getTime().toEpochMilli()
                                : partition))
            .peek(
                (key, d) -> {
                  if (d != null) {
                    meters
                        .counter(
                            "prefstream.monitor.dead.letters",
                            "tenant",
                            d.getTenantId() == null ? "unknown" : d.getTenantId())
                        .increment();
                  }
                })
            .filter((key, d) -> d != null && d.getTenantId() != null)
            .mapValues(d -> new Signal(null, d));
    KStream<String, Signal> byTenant =
        events
            .merge(deadLetters)
            // One task sees all of a tenant's feedback: duplicates and annotators across
            // interactions.
            .selectKey((key, signal) -> signal.tenant())
            .repartition(
                Repartitioned.with(Serdes.String(), Signal.SERDE).withName("feedback-by-tenant"));
    return deadLetterRate(byTenant).merge(inputDrift(byTenant));
  }

  /** Input drift and data quality per tenant window of the events' time ({@link InputDrift}). */
  private KStream<String, DriftReport> inputDrift(KStream<String, Signal> byTenant) {
    return byTenant
        .processValues(
            () -> new DataQuality.Checks(config.quality().dedupWindow()),
            DataQuality.SEEN,
            DataQuality.LABELS)
        .groupByKey(Grouped.with(Serdes.String(), Signal.SERDE))
        .windowedBy(TimeWindows.ofSizeAndGrace(config.window(), config.grace()))
        .aggregate(
            FeedbackWindow::new,
            (tenant, signal, w) -> w.add(signal),
            Materialized.<String, FeedbackWindow, WindowStore<Bytes, byte[]>>as(FEEDBACK_WINDOWS)
                .withKeySerde(Serdes.String())
                .withValueSerde(FeedbackWindow.SERDE))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .process(() -> new InputDrift(referenceKeep(config.window())), REFERENCES);
  }

  /** Fewest events and dead letters a window's dead-letter rate is judged on. */
  static final double MIN_OFFERED = 100;

  /**
   * The share of what a tenant offered that was dead-lettered, per window of arrival: an event
   * counts when ingest received it ({@code received_at}), a dead letter when it was written. Both
   * on one clock: event time would set a simulated or replayed product's events (an hour back, say)
   * against dead letters of now, and a window of a handful of events against a window's worth of
   * dead letters read as a rate of 1.
   */
  private KStream<String, DriftReport> deadLetterRate(KStream<String, Signal> byTenant) {
    return byTenant
        .processValues(ArrivalTime::new)
        .groupByKey(Grouped.with(Serdes.String(), Signal.SERDE).withName("signals-by-arrival"))
        .windowedBy(TimeWindows.ofSizeAndGrace(config.window(), config.grace()))
        .aggregate(
            () -> new double[2],
            (tenant, signal, counts) -> {
              counts[signal.event() != null ? 0 : 1]++;
              return counts;
            },
            Materialized.<String, double[], WindowStore<Bytes, byte[]>>as(ARRIVAL_WINDOWS)
                .withKeySerde(Serdes.String())
                .withValueSerde(ConceptDrift.DOUBLES))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .flatMap(
            (key, counts) -> {
              double offered = counts[0] + counts[1];
              if (offered < MIN_OFFERED) {
                return List.of();
              }
              DriftReport r =
                  report(
                      key.key(),
                      INPUTS,
                      null,
                      "dead_letter_rate",
                      counts[1] / offered,
                      (long) offered,
                      key.window().startTime(),
                      key.window().endTime(),
                      Map.of("dead_letters", counts[1], "accepted", counts[0]));
              return List.of(KeyValue.pair(key(r), r));
            });
  }

  /** Sets a signal's timestamp to its arrival: an event's received_at, a dead letter's time. */
  private static final class ArrivalTime implements FixedKeyProcessor<String, Signal, Signal> {
    private FixedKeyProcessorContext<String, Signal> context;

    @Override
    public void init(FixedKeyProcessorContext<String, Signal> context) {
      this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<String, Signal> r) {
      Signal s = r.value();
      Instant at =
          s.event() != null
              ? (s.event().getReceivedAt() != null
                  ? s.event().getReceivedAt()
                  : s.event().getOccurredAt())
              : s.letter().getTime();
      context.forward(r.withTimestamp(at.toEpochMilli()));
    }
  }

  /** The pair builder's flag on a pair that corrects an earlier one. */
  static final String REVISES = "REVISES";

  /** The pairs, counted by tenant, source and split, and revisions by tenant and source. */
  private KStream<String, PreferencePair> pairs(StreamsBuilder b) {
    // By the record's timestamp: the pairs topic's append time, so the monitor reads pairs in
    // about the order they were committed across partitions.
    return b.stream(
            topics.pairs().name(), Consumed.with(Serdes.String(), topics.pairs().valueSerde()))
        .peek(
            (key, pair) -> {
              if (pair != null) {
                meters
                    .counter(
                        "prefstream.monitor.pairs",
                        "tenant",
                        pair.getTenantId(),
                        "source",
                        pair.getSource().name().toLowerCase(java.util.Locale.ROOT),
                        "split",
                        pair.getSplit().name().toLowerCase(java.util.Locale.ROOT))
                    .increment();
                if (pair.getFlags().contains(REVISES)) {
                  // An early explicit pair that a later rating or thumb reversed: what emitting
                  // explicit pairs before the session's end costs.
                  meters
                      .counter(
                          "prefstream.monitor.pair.revisions",
                          "tenant",
                          pair.getTenantId(),
                          "source",
                          pair.getSource().name().toLowerCase(java.util.Locale.ROOT))
                      .increment();
                }
              }
            });
  }

  /**
   * Concept drift: the serving champion's accuracy on fresh HOLDOUT pairs ({@link ConceptDrift}).
   */
  private KStream<String, DriftReport> conceptDrift(KStream<String, PreferencePair> pairs) {
    MonitorTopology.Concept concept = config.concept();
    return pairs
        .filter((key, pair) -> pair != null && pair.getSplit() == Split.HOLDOUT)
        // One task sees all of a tenant's pairs, so one detector judges its champion.
        .selectKey((key, pair) -> pair.getTenantId())
        .repartition(
            Repartitioned.with(Serdes.String(), topics.pairs().valueSerde())
                .withName("holdout-by-tenant"))
        .process(
            () ->
                new ConceptDrift(
                    concept.modelName(), concept.delta(), concept.lambda(), concept.minPairs()),
            ConceptDrift.STATE);
  }

  /**
   * A reward-hacking sign in the labels: the share of pairs whose chosen reply is the longer one,
   * per closed window against its decayed reference ({@link LongerWins}).
   */
  private KStream<String, DriftReport> longerWins(KStream<String, PreferencePair> pairs) {
    return pairs
        .filter((key, pair) -> pair != null)
        .groupBy(
            (key, pair) -> pair.getTenantId(),
            Grouped.with(Serdes.String(), topics.pairs().valueSerde()).withName("pairs-by-tenant"))
        .windowedBy(TimeWindows.ofSizeAndGrace(config.window(), config.grace()))
        .aggregate(
            () -> new double[2],
            (tenant, pair, counts) -> {
              counts[0]++;
              counts[1] += pair.getChosen().length() > pair.getRejected().length() ? 1 : 0;
              return counts;
            },
            Materialized.<String, double[], WindowStore<Bytes, byte[]>>as(PAIR_WINDOWS)
                .withKeySerde(Serdes.String())
                .withValueSerde(ConceptDrift.DOUBLES))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .process(() -> new LongerWins(referenceKeep(config.window())), LONGER_REFERENCES);
  }

  /**
   * Each tenant's reports in one task, where the model's length preference meets the labels' own
   * ({@link LengthPreference}); every report goes on.
   */
  private KStream<String, DriftReport> lengthPreference(KStream<String, DriftReport> reports) {
    return reports
        .selectKey((key, r) -> r.getTenantId())
        .repartition(
            Repartitioned.with(Serdes.String(), topics.drift().valueSerde())
                .withName("reports-by-tenant"))
        .process(LengthPreference::new, LengthPreference.LABEL_SHARES)
        .selectKey((key, r) -> key(r));
  }

  /**
   * Every report's level, with hysteresis per tenant/model/metric ({@link Levels}), onto {@code
   * prefstream.drift}.
   */
  private void levels(KStream<String, DriftReport> reports) {
    reports
        // One task per tenant/model/metric, so its level carries from window to window.
        .repartition(
            Repartitioned.with(Serdes.String(), topics.drift().valueSerde())
                .withName("drift-reports"))
        .process(() -> new Levels(config.thresholds()), LEVELS, LATEST)
        .to(topics.drift().name(), Produced.with(Serdes.String(), topics.drift().valueSerde()));
  }

  /** Each window, the reference keeps this share of itself: e^(−window / span). */
  static double referenceKeep(Duration window) {
    return Math.exp(-(double) window.toMillis() / REFERENCE_SPAN.toMillis());
  }

  private static double[] edges(Histogram h) {
    return h == null ? null : h.getEdges().stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static double[] counts(Histogram h) {
    return h == null ? null : h.getCounts().stream().mapToDouble(Long::doubleValue).toArray();
  }

  /** The figures of one closed window, keyed tenant/model/metric, level not yet set. */
  static List<KeyValue<String, DriftReport>> reports(Windowed<String> key, ScoreWindow w) {
    List<KeyValue<String, DriftReport>> out = new ArrayList<>();
    Instant start = key.window().startTime();
    Instant end = key.window().endTime();
    if (w.counts.length > 0) {
      double[] reference = w.referenceBins();
      double[] live = w.countBins();
      Map<String, Double> details = new HashMap<>();
      for (int i = 0; i < live.length; i++) {
        details.put("bin_" + i, live[i]);
      }
      out.add(report(w, "score_psi", Drift.psi(reference, live), start, end, details));
      out.add(report(w, "score_ks", Drift.ksBinned(reference, live), start, end, Map.of()));
    }
    double rho = Drift.spearman(w.scores, w.words);
    if (!Double.isNaN(rho)) {
      out.add(
          report(
              w,
              "length_reward_spearman",
              rho,
              start,
              end,
              Map.of("sampled", (double) w.scores.length)));
    }
    double[] longer = longerScoredHigher(w.scores, w.words);
    if (longer[1] >= MIN_LENGTH_PAIRS) {
      out.add(
          report(
              w,
              LengthPreference.MODEL_SHARE,
              longer[0] / longer[1],
              start,
              end,
              Map.of("comparable_pairs", longer[1])));
    }
    return out;
  }

  private static KeyValue<String, DriftReport> report(
      ScoreWindow w,
      String metric,
      double value,
      Instant start,
      Instant end,
      Map<String, Double> details) {
    DriftReport r = report(w.tenant, w.model, w.version, metric, value, w.n, start, end, details);
    return KeyValue.pair(key(r), r);
  }

  /** Fewest served pairs of unequal length a model's length preference is judged on. */
  static final double MIN_LENGTH_PAIRS = 100;

  /**
   * Over every pair of sampled served responses of unequal length (paired at random within the
   * window, as the sample holds them), how many had the longer one scored higher (a tie in score
   * counts half), and how many pairs there were.
   */
  static double[] longerScoredHigher(double[] scores, double[] words) {
    double higher = 0;
    double pairs = 0;
    for (int i = 0; i < scores.length; i++) {
      for (int j = i + 1; j < scores.length; j++) {
        if (words[i] == words[j]) {
          continue;
        }
        pairs++;
        double d = (scores[i] - scores[j]) * (words[i] - words[j]);
        higher += d > 0 ? 1 : d == 0 ? 0.5 : 0;
      }
    }
    return new double[] {higher, pairs};
  }

  /** A report before its level is set (the levels processor sets thresholds and level). */
  static DriftReport report(
      String tenant,
      String model,
      Long version,
      String metric,
      double value,
      long sampleSize,
      Instant start,
      Instant end,
      Map<String, Double> details) {
    return DriftReport.newBuilder()
        .setTenantId(tenant)
        .setModel(model)
        .setVersion(version)
        .setMetric(metric)
        .setWindowStart(start)
        .setWindowEnd(end)
        .setValue(value)
        .setSampleSize(sampleSize)
        .setDetails(new HashMap<>(details))
        .setAt(end)
        .build();
  }

  /** The key of a report on prefstream.drift and in the stores: tenant/model/metric. */
  static String key(DriftReport r) {
    return r.getTenantId() + "/" + r.getModel() + "/" + r.getMetric();
  }
}
