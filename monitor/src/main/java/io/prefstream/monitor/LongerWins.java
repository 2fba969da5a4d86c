package io.prefstream.monitor;

import io.prefstream.avro.DriftReport;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Label drift in pairs: the share of a tenant's pairs in a window whose chosen reply is the longer
 * one, against its decayed reference (about the last hour): {@code longer_wins_share_change}, the
 * absolute change, with share and reference in the details (at least 20 pairs on both sides).
 */
final class LongerWins implements Processor<Windowed<String>, double[], String, DriftReport> {
  private final double keep;
  private ProcessorContext<String, DriftReport> context;
  private KeyValueStore<String, double[]> references;

  LongerWins(double keep) {
    this.keep = keep;
  }

  @Override
  public void init(ProcessorContext<String, DriftReport> context) {
    this.context = context;
    this.references = context.getStateStore(MonitorTopology.LONGER_REFERENCES);
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
          MonitorTopology.report(
              tenant,
              MonitorTopology.INPUTS,
              null,
              "longer_wins_share_change",
              Math.abs(share - reference),
              (long) w[0],
              record.key().window().startTime(),
              end,
              Map.of("share", share, "reference", reference));
      context.forward(new Record<>(MonitorTopology.key(r), r, end.toEpochMilli()));
    }
    double[] next = ref == null ? new double[2] : ref;
    next[0] = next[0] * keep + w[0];
    next[1] = next[1] * keep + w[1];
    references.put(tenant, next);
    if (next[0] >= 20) {
      // The labels' own length preference, for the model's to be judged against.
      DriftReport share =
          MonitorTopology.report(
              tenant,
              MonitorTopology.INPUTS,
              null,
              LengthPreference.LABEL_SHARE,
              next[1] / next[0],
              (long) w[0],
              record.key().window().startTime(),
              end,
              Map.of("window_share", w[1] / w[0]));
      context.forward(new Record<>(MonitorTopology.key(share), share, end.toEpochMilli()));
    }
  }
}
