package io.prefstream.monitor;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.avro.AlertLevel;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.DriftReport;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.Histogram;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.ScoreRecord;
import io.prefstream.avro.Split;
import io.prefstream.monitor.stats.Drift;
import io.prefstream.monitor.stats.Hysteresis;
import io.prefstream.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
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
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
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
  private static final String LONGER_REFERENCES = "longer-references";
  private static final String REFERENCES = "feedback-references";

  /** The span the decayed input reference covers: about the last hour. */
  static final Duration REFERENCE_SPAN = Duration.ofHours(1);

  /** Model name of reports about a tenant's inputs and labels rather than one model. */
  public static final String INPUTS = "inputs";

  private static final String LEVELS = "drift-levels";

  private MonitorTopology() {}

  /**
   * @param window tumbling window size
   * @param grace how late a score may arrive and still count in its window
   */
  public static Topology build(
      Topics topics, Duration window, Duration grace, Thresholds thresholds) {
    return build(topics, window, grace, thresholds, Concept.defaults());
  }

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

  public static Topology build(
      Topics topics, Duration window, Duration grace, Thresholds thresholds, Concept concept) {
    return build(
        topics, window, grace, thresholds, concept, Quality.defaults(), new SimpleMeterRegistry());
  }

  /**
   * As above, counting in {@code meters} the feedback by tenant and signal kind ({@code
   * prefstream.monitor.events}) and the pairs by tenant, source and split ({@code
   * prefstream.monitor.pairs}), for rates on dashboards.
   */
  public static Topology build(
      Topics topics,
      Duration window,
      Duration grace,
      Thresholds thresholds,
      Concept concept,
      Quality quality,
      MeterRegistry meters) {
    return build(
        topics, window, grace, thresholds, concept, quality, meters, new ScoreArms(meters));
  }

  /** As above, also keeping the latest served scores by arm in {@code arms}. */
  static Topology build(
      Topics topics,
      Duration window,
      Duration grace,
      Thresholds thresholds,
      Concept concept,
      Quality quality,
      MeterRegistry meters,
      ScoreArms arms) {
    StreamsBuilder b = new StreamsBuilder();
    b.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(DataQuality.EVENT_TIME),
            Serdes.String(),
            Serdes.Long()));
    b.addStateStore(
        Stores.windowStoreBuilder(
            Stores.persistentWindowStore(
                DataQuality.SEEN, quality.dedupWindow(), quality.dedupWindow(), false),
            Serdes.String(),
            Serdes.Long()));
    b.addStateStore(
        Stores.windowStoreBuilder(
            Stores.persistentWindowStore(
                DataQuality.LABELS, quality.dedupWindow(), quality.dedupWindow(), false),
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
            Stores.persistentKeyValueStore(LEVELS), Serdes.String(), Serdes.String()));
    b.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(LATEST), Serdes.String(), topics.drift().valueSerde()));
    GlobalKTable<String, CheckpointPublished> checkpoints =
        b.globalTable(
            topics.checkpoints().name(),
            Consumed.with(Serdes.String(), topics.checkpoints().valueSerde()),
            Materialized.as(CHECKPOINTS));
    b.globalTable(
        topics.rollouts().name(),
        Consumed.with(Serdes.String(), topics.rollouts().valueSerde()),
        Materialized.as(ROLLOUTS));
    KStream<String, ScoreRecord> scores =
        b.stream(
            topics.scores().name(),
            Consumed.with(Serdes.String(), topics.scores().valueSerde())
                .withTimestampExtractor(
                    (record, partition) ->
                        record.value() instanceof ScoreRecord s
                            ? s.getAt().toEpochMilli()
                            : partition));
    KStream<String, DriftReport> scoreReports =
        scores
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
            .windowedBy(TimeWindows.ofSizeAndGrace(window, grace))
            .aggregate(
                ScoreWindow::new,
                (key, v, w) -> w.add(v.score(), edges(v.reference()), counts(v.reference())),
                Materialized.<String, ScoreWindow, WindowStore<Bytes, byte[]>>as(WINDOWS)
                    .withKeySerde(Serdes.String())
                    .withValueSerde(ScoreWindow.SERDE))
            .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
            .toStream()
            .flatMap((key, w) -> reports(key, w));
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
                () -> new DataQuality.Lateness(quality.lateAfter()), DataQuality.EVENT_TIME);
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
    KStream<String, DriftReport> feedbackReports =
        events
            .merge(deadLetters)
            // One task sees all of a tenant's feedback: duplicates and annotators across
            // interactions.
            .selectKey((key, signal) -> signal.tenant())
            .repartition(
                Repartitioned.with(Serdes.String(), Signal.SERDE).withName("feedback-by-tenant"))
            .processValues(
                () -> new DataQuality.Checks(quality.dedupWindow()),
                DataQuality.SEEN,
                DataQuality.LABELS)
            .groupByKey(Grouped.with(Serdes.String(), Signal.SERDE))
            .windowedBy(TimeWindows.ofSizeAndGrace(window, grace))
            .aggregate(
                FeedbackWindow::new,
                (tenant, signal, w) -> w.add(signal),
                Materialized.<String, FeedbackWindow, WindowStore<Bytes, byte[]>>as(
                        FEEDBACK_WINDOWS)
                    .withKeySerde(Serdes.String())
                    .withValueSerde(FeedbackWindow.SERDE))
            .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
            .toStream()
            .process(() -> new InputDrift(referenceKeep(window)), REFERENCES);
    KStream<String, PreferencePair> pairs =
        b.stream(topics.pairs().name(), Consumed.with(Serdes.String(), topics.pairs().valueSerde()))
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
                  }
                });
    KStream<String, DriftReport> conceptReports =
        pairs
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
    KStream<String, DriftReport> longerReports =
        pairs
            .filter((key, pair) -> pair != null)
            .groupBy(
                (key, pair) -> pair.getTenantId(),
                Grouped.with(Serdes.String(), topics.pairs().valueSerde())
                    .withName("pairs-by-tenant"))
            .windowedBy(TimeWindows.ofSizeAndGrace(window, grace))
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
            .process(() -> new LongerWins(referenceKeep(window)), LONGER_REFERENCES);
    scoreReports
        .merge(feedbackReports)
        .merge(conceptReports)
        .merge(longerReports)
        // One task per tenant/model/metric, so its level carries from window to window.
        .repartition(
            Repartitioned.with(Serdes.String(), topics.drift().valueSerde())
                .withName("drift-reports"))
        .process(() -> new Levels(thresholds), LEVELS, LATEST)
        .to(topics.drift().name(), Produced.with(Serdes.String(), topics.drift().valueSerde()));
    return b.build();
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

  /**
   * Sets each report's thresholds and level, with hysteresis across windows (the level of each
   * tenant/model/metric is kept in a store), and keeps the latest report for queries.
   */
  static final class Levels implements Processor<String, DriftReport, String, DriftReport> {
    private final Thresholds thresholds;
    private ProcessorContext<String, DriftReport> context;
    private KeyValueStore<String, String> levels;
    private KeyValueStore<String, DriftReport> latest;

    Levels(Thresholds thresholds) {
      this.thresholds = thresholds;
    }

    @Override
    public void init(ProcessorContext<String, DriftReport> context) {
      this.context = context;
      this.levels = context.getStateStore(LEVELS);
      this.latest = context.getStateStore(LATEST);
    }

    @Override
    public void process(Record<String, DriftReport> record) {
      DriftReport r = record.value();
      Thresholds.Pair t = thresholds.of(r.getTenantId(), r.getMetric());
      if (!Double.isNaN(t.warn())) {
        String previous = levels.get(record.key());
        Hysteresis h =
            Hysteresis.of(t.warn(), t.alert(), thresholds.leaveShare())
                .at(previous == null ? Hysteresis.Level.OK : Hysteresis.Level.valueOf(previous));
        Hysteresis.Level level = h.update(r.getValue());
        levels.put(record.key(), level.name());
        r.setWarnThreshold(t.warn());
        r.setAlertThreshold(t.alert());
        r.setLevel(AlertLevel.valueOf(level.name()));
      }
      latest.put(record.key(), r);
      context.forward(record);
    }
  }

  /**
   * Compares each closed feedback window of a tenant with its decayed reference (about the last
   * hour, kept in a store), then folds the window into the reference: signal-kind and script mix
   * (Jensen-Shannon), prompt and response lengths (PSI), thumbs-up rate and mean rating (absolute
   * change). Reports the window's own data quality too: dead-letter, duplicate and late rates and
   * annotator disagreement. Rates need {@link #MIN_WINDOW} events, distributions {@link
   * #MIN_DISTRIBUTION} (a mix of a few dozen events differs from any reference by chance alone).
   */
  static final class InputDrift
      implements Processor<Windowed<String>, FeedbackWindow, String, DriftReport> {
    static final double MIN_REFERENCE = 50;
    static final double MIN_WINDOW = 100;
    static final double MIN_DISTRIBUTION = 200;
    static final double MIN_LABELS = 20;
    static final double MIN_COMPARISONS = 20;
    private final double keep;
    private ProcessorContext<String, DriftReport> context;
    private KeyValueStore<String, FeedbackWindow> references;

    InputDrift(double keep) {
      this.keep = keep;
    }

    @Override
    public void init(ProcessorContext<String, DriftReport> context) {
      this.context = context;
      this.references = context.getStateStore(REFERENCES);
    }

    @Override
    public void process(Record<Windowed<String>, FeedbackWindow> record) {
      String tenant = record.key().key();
      FeedbackWindow w = record.value();
      FeedbackWindow ref = references.get(tenant);
      Instant start = record.key().window().startTime();
      Instant end = record.key().window().endTime();
      double offered = w.events + w.deadLetters;
      if (offered >= MIN_WINDOW) {
        emit(
            tenant,
            "dead_letter_rate",
            w.deadLetters / offered,
            offered,
            start,
            end,
            Map.of("dead_letters", w.deadLetters, "accepted", w.events));
      }
      if (w.events >= MIN_WINDOW) {
        emit(
            tenant,
            "duplicate_rate",
            (w.duplicateIds + w.duplicateContent) / w.events,
            w.events,
            start,
            end,
            Map.of("by_event_id", w.duplicateIds, "by_content", w.duplicateContent));
        emit(
            tenant,
            "late_rate",
            w.late / w.events,
            w.events,
            start,
            end,
            Map.of("late", w.late, "dropped_late", w.droppedLate));
      }
      double comparisons = w.agreements + w.disagreements;
      if (comparisons >= MIN_COMPARISONS) {
        emit(
            tenant,
            "annotator_disagreement",
            w.disagreements / comparisons,
            (long) comparisons,
            start,
            end,
            Map.of("agreements", w.agreements, "disagreements", w.disagreements));
      }
      if (ref != null && ref.events >= MIN_REFERENCE && w.events >= MIN_DISTRIBUTION) {
        emit(
            tenant,
            "signal_kind_js",
            Drift.jensenShannon(ref.kinds, w.kinds),
            w.events,
            start,
            end,
            Map.of());
        emit(
            tenant,
            "prompt_length_psi",
            Drift.psi(ref.promptLengths, w.promptLengths),
            sum(w.promptLengths),
            start,
            end,
            Map.of());
        emit(
            tenant,
            "response_length_psi",
            Drift.psi(ref.responseLengths, w.responseLengths),
            sum(w.responseLengths),
            start,
            end,
            Map.of());
        emit(
            tenant,
            "script_mix_js",
            Drift.jensenShannon(ref.scripts, w.scripts),
            sum(w.scripts),
            start,
            end,
            Map.of());
        if (w.thumbs >= MIN_LABELS && ref.thumbs >= MIN_LABELS) {
          emit(
              tenant,
              "thumbs_up_rate_change",
              Math.abs(w.thumbsUpRate() - ref.thumbsUpRate()),
              w.thumbs,
              start,
              end,
              Map.of("rate", w.thumbsUpRate(), "reference", ref.thumbsUpRate()));
        }
        if (w.ratings >= MIN_LABELS && ref.ratings >= MIN_LABELS) {
          emit(
              tenant,
              "rating_mean_change",
              Math.abs(w.ratingMean() - ref.ratingMean()),
              w.ratings,
              start,
              end,
              Map.of("mean", w.ratingMean(), "reference", ref.ratingMean()));
        }
      }
      references.put(tenant, (ref == null ? new FeedbackWindow() : ref).decayInto(w, keep));
    }

    private void emit(
        String tenant,
        String metric,
        double value,
        double n,
        Instant start,
        Instant end,
        Map<String, Double> details) {
      DriftReport r = report(tenant, INPUTS, null, metric, value, (long) n, start, end, details);
      context.forward(new Record<>(key(r), r, end.toEpochMilli()));
    }

    private static double sum(double[] v) {
      double s = 0;
      for (double x : v) {
        s += x;
      }
      return s;
    }
  }

  /**
   * Label drift in pairs: the share of a tenant's pairs in a window whose chosen reply is the
   * longer one, against its decayed reference (about the last hour): {@code
   * longer_wins_share_change}, the absolute change, with share and reference in the details (at
   * least 20 pairs on both sides).
   */
  static final class LongerWins
      implements Processor<Windowed<String>, double[], String, DriftReport> {
    private final double keep;
    private ProcessorContext<String, DriftReport> context;
    private KeyValueStore<String, double[]> references;

    LongerWins(double keep) {
      this.keep = keep;
    }

    @Override
    public void init(ProcessorContext<String, DriftReport> context) {
      this.context = context;
      this.references = context.getStateStore(LONGER_REFERENCES);
    }

    @Override
    public void process(Record<Windowed<String>, double[]> record) {
      String tenant = record.key().key();
      double[] w = record.value();
      double[] ref = references.get(tenant);
      Instant end = record.key().window().endTime();
      if (ref != null && ref[0] >= 20 && w[0] >= 20) {
        double share = w[1] / w[0];
        double reference = ref[1] / ref[0];
        DriftReport r =
            report(
                tenant,
                INPUTS,
                null,
                "longer_wins_share_change",
                Math.abs(share - reference),
                (long) w[0],
                record.key().window().startTime(),
                end,
                Map.of("share", share, "reference", reference));
        context.forward(new Record<>(key(r), r, end.toEpochMilli()));
      }
      double[] next = ref == null ? new double[2] : ref;
      next[0] = next[0] * keep + w[0];
      next[1] = next[1] * keep + w[1];
      references.put(tenant, next);
    }
  }
}
