package io.prefstream.monitor;

import io.prefstream.avro.AlertLevel;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.DriftReport;
import io.prefstream.avro.Histogram;
import io.prefstream.avro.ScoreRecord;
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
 * The drift monitor's Kafka Streams topology. So far, score drift: per model version and tumbling
 * window (event time of the scores), the served raw scores against the checkpoint's reference
 * histogram (PSI and binned KS), and the Spearman correlation of reward with response length (a
 * reward-hacking sign). Each figure becomes a {@link DriftReport} on {@code prefstream.drift} with
 * its level after hysteresis; the latest report of each metric is queryable in a store.
 */
public final class MonitorTopology {

  /** Store of the latest report per tenant/model/metric (interactive queries). */
  public static final String LATEST = "drift-latest";

  static final String WINDOWS = "score-windows";
  private static final String LEVELS = "drift-levels";

  private MonitorTopology() {}

  /**
   * @param window tumbling window size
   * @param grace how late a score may arrive and still count in its window
   */
  public static Topology build(
      Topics topics, Duration window, Duration grace, Thresholds thresholds) {
    StreamsBuilder b = new StreamsBuilder();
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
            Materialized.as("checkpoints"));
    KStream<String, ScoreRecord> scores =
        b.stream(
            topics.scores().name(),
            Consumed.with(Serdes.String(), topics.scores().valueSerde())
                .withTimestampExtractor(
                    (record, partition) ->
                        record.value() instanceof ScoreRecord s
                            ? s.getAt().toEpochMilli()
                            : partition));
    scores
        .leftJoin(
            checkpoints,
            (key, s) -> s.getTenantId() + "/" + s.getModel() + "/" + s.getVersion(),
            (s, c) -> new Scored(s, c == null ? null : c.getReferenceHistogram()))
        .groupBy(
            (key, v) ->
                v.score().getTenantId() + "/" + v.score().getModel() + "/" + v.score().getVersion(),
            Grouped.with(Serdes.String(), Scored.SERDE))
        .windowedBy(TimeWindows.ofSizeAndGrace(window, grace))
        .aggregate(
            ScoreWindow::new,
            (key, v, w) -> w.add(v.score(), edges(v.reference()), counts(v.reference())),
            Materialized.<String, ScoreWindow, WindowStore<Bytes, byte[]>>as(WINDOWS)
                .withKeySerde(Serdes.String())
                .withValueSerde(ScoreWindow.SERDE))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .flatMap((key, w) -> reports(key, w))
        .process(() -> new Levels(thresholds), LEVELS, LATEST)
        .to(topics.drift().name(), Produced.with(Serdes.String(), topics.drift().valueSerde()));
    return b.build();
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
    DriftReport r =
        DriftReport.newBuilder()
            .setTenantId(w.tenant)
            .setModel(w.model)
            .setVersion(w.version)
            .setMetric(metric)
            .setWindowStart(start)
            .setWindowEnd(end)
            .setValue(value)
            .setSampleSize(w.n)
            .setDetails(new HashMap<>(details))
            .setAt(end)
            .build();
    return KeyValue.pair(w.tenant + "/" + w.model + "/" + metric, r);
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
}
