package io.prefstream.monitor;

import io.prefstream.avro.DriftReport;
import java.util.Map;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The reward-hacking sign that rewards favour length more than people do: a model's share of served
 * response pairs in which the longer one scored higher ({@code longer_scored_higher_share}) against
 * the tenant's labels' own share of pairs whose chosen reply is the longer one ({@code
 * longer_wins_share}, decayed over about the last hour). Their difference is {@code
 * length_preference_excess}: near 0 when the model likes length as much as the labels do (users who
 * really prefer longer replies raise no alarm), positive when it likes length more. Keyed by
 * tenant, so both shares of a tenant meet here; every report passes through unchanged.
 */
final class LengthPreference implements Processor<String, DriftReport, String, DriftReport> {

  static final String LABEL_SHARES = "label-longer-shares";
  static final String MODEL_SHARE = "longer_scored_higher_share";
  static final String LABEL_SHARE = "longer_wins_share";
  static final String EXCESS = "length_preference_excess";

  private ProcessorContext<String, DriftReport> context;
  private KeyValueStore<String, double[]> labels;

  @Override
  public void init(ProcessorContext<String, DriftReport> context) {
    this.context = context;
    this.labels = context.getStateStore(LABEL_SHARES);
  }

  @Override
  public void process(Record<String, DriftReport> record) {
    DriftReport r = record.value();
    context.forward(record);
    String tenant = r.getTenantId();
    if (r.getMetric().equals(LABEL_SHARE)) {
      labels.put(tenant, new double[] {r.getValue(), r.getSampleSize()});
    } else if (r.getMetric().equals(MODEL_SHARE)) {
      double[] label = labels.get(tenant);
      if (label == null) {
        return; // no labels to compare with yet: no judgement
      }
      DriftReport excess =
          MonitorTopology.report(
              tenant,
              r.getModel(),
              r.getVersion(),
              EXCESS,
              r.getValue() - label[0],
              r.getSampleSize(),
              r.getWindowStart(),
              r.getWindowEnd(),
              Map.of(
                  "model_share", r.getValue(),
                  "label_share", label[0],
                  "comparable_pairs", r.getDetails().getOrDefault("comparable_pairs", 0.0)));
      context.forward(record.withKey(MonitorTopology.key(excess)).withValue(excess));
    }
  }
}
