package io.prefstream.monitor;

import io.prefstream.avro.AlertLevel;
import io.prefstream.avro.DriftReport;
import io.prefstream.monitor.stats.Hysteresis;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Sets each report's thresholds and level, with hysteresis across windows (the level of each
 * tenant/model/metric is kept in a store), and keeps the latest report for queries.
 */
final class Levels implements Processor<String, DriftReport, String, DriftReport> {
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
    this.levels = context.getStateStore(MonitorTopology.LEVELS);
    this.latest = context.getStateStore(MonitorTopology.LATEST);
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
