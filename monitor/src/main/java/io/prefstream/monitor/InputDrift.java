package io.prefstream.monitor;

import io.prefstream.avro.DriftReport;
import io.prefstream.monitor.stats.Drift;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Compares each closed feedback window of a tenant with its decayed reference (about the last hour,
 * kept in a store), then folds the window into the reference: signal-kind and script mix
 * (Jensen-Shannon), prompt and response lengths (PSI), thumbs-up rate and mean rating (absolute
 * change). Reports the window's own data quality too: duplicate and late rates and annotator
 * disagreement (the dead-letter rate is counted by arrival, in the topology). Rates need {@link
 * #MIN_WINDOW} events, distributions {@link #MIN_DISTRIBUTION} (a mix of a few dozen events differs
 * from any reference by chance alone).
 */
final class InputDrift implements Processor<Windowed<String>, FeedbackWindow, String, DriftReport> {
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
    this.references = context.getStateStore(MonitorTopology.REFERENCES);
  }

  @Override
  public void process(Record<Windowed<String>, FeedbackWindow> record) {
    String tenant = record.key().key();
    FeedbackWindow w = record.value();
    FeedbackWindow ref = references.get(tenant);
    Instant start = record.key().window().startTime();
    Instant end = record.key().window().endTime();
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
    DriftReport r =
        MonitorTopology.report(
            tenant, MonitorTopology.INPUTS, null, metric, value, (long) n, start, end, details);
    context.forward(new Record<>(MonitorTopology.key(r), r, end.toEpochMilli()));
  }

  private static double sum(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s;
  }
}
