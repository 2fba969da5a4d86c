package io.prefstream.monitor;

import ai.djl.Device;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.DriftReport;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.RolloutState;
import io.prefstream.avro.Split;
import io.prefstream.model.Candidate;
import io.prefstream.model.RewardModel;
import io.prefstream.model.checkpoint.CheckpointLoader;
import io.prefstream.model.stats.PageHinkley;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Concept drift: each fresh HOLDOUT pair is scored by the model now serving its tenant (the
 * champion of {@code prefstream.rollouts}, loaded from its verified checkpoint); whether it orders
 * the pair as the users did feeds a Page-Hinkley test for a drop in accuracy, reset whenever the
 * champion changes. Every {@link #EVERY} pairs it reports {@code champion_accuracy} (the last
 * {@link #WINDOW} pairs, informational) and {@code concept_drift}: the Page-Hinkley statistic over
 * its threshold λ, so 1 is the test's signal (alert) and 0.5 half way (warn).
 */
final class ConceptDrift implements Processor<String, PreferencePair, String, DriftReport> {

  private static final Logger LOG = LoggerFactory.getLogger(ConceptDrift.class);
  static final String STATE = "concept-state";
  static final int EVERY = 10;
  static final int WINDOW = 200;

  private final String modelName;
  private final double delta;
  private final double lambda;
  private final long minSamples;
  private final Map<String, RewardModel> models = new HashMap<>();
  private ProcessorContext<String, DriftReport> context;
  private KeyValueStore<String, ValueAndTimestamp<RolloutState>> rollouts;
  private KeyValueStore<String, ValueAndTimestamp<CheckpointPublished>> checkpoints;
  private KeyValueStore<String, double[]> state;

  ConceptDrift(String modelName, double delta, double lambda, long minSamples) {
    this.modelName = modelName;
    this.delta = delta;
    this.lambda = lambda;
    this.minSamples = minSamples;
  }

  @Override
  public void init(ProcessorContext<String, DriftReport> context) {
    this.context = context;
    this.rollouts = context.getStateStore(MonitorTopology.ROLLOUTS);
    this.checkpoints = context.getStateStore(MonitorTopology.CHECKPOINTS);
    this.state = context.getStateStore(STATE);
  }

  @Override
  public void process(Record<String, PreferencePair> record) {
    PreferencePair pair = record.value();
    if (pair == null || pair.getSplit() != Split.HOLDOUT) {
      return;
    }
    String key = pair.getTenantId() + "/" + modelName;
    ValueAndTimestamp<RolloutState> rollout = rollouts.get(key);
    if (rollout == null || rollout.value().getChampionVersion() == null) {
      return; // nothing serves this tenant yet
    }
    long version = rollout.value().getChampionVersion();
    RewardModel model = model(key, version);
    if (model == null) {
      return;
    }
    float[] s =
        model.score(
            List.of(
                new Candidate(pair.getPrompt(), pair.getChosen()),
                new Candidate(pair.getPrompt(), pair.getRejected())));
    double correct = s[0] > s[1] ? 1 : s[0] == s[1] ? 0.5 : 0;
    // state: version, PH (n, mean, cumulative, minimum), then the last WINDOW outcomes (ring)
    double[] st = state.get(key);
    if (st == null || (long) st[0] != version) {
      st = new double[6 + WINDOW];
      st[0] = version;
    }
    PageHinkley ph =
        new PageHinkley(delta, lambda, minSamples)
            .restore(new double[] {st[1], st[2], st[3], st[4]});
    double statistic = ph.update(correct);
    System.arraycopy(ph.state(), 0, st, 1, 4);
    long n = (long) st[1];
    st[6 + (int) ((n - 1) % WINDOW)] = correct;
    state.put(key, st);
    if (n % EVERY == 0) {
      int kept = (int) Math.min(n, WINDOW);
      double sum = 0;
      for (int i = 0; i < kept; i++) {
        sum += st[6 + i];
      }
      Instant at = Instant.ofEpochMilli(record.timestamp());
      double value = n >= minSamples ? statistic / lambda : 0;
      Map<String, Double> details = new HashMap<>();
      details.put("pairs", (double) n);
      details.put("statistic", statistic);
      details.put("lambda", lambda);
      details.put("mean_accuracy", ph.mean());
      emit(pair.getTenantId(), version, "concept_drift", value, n, at, details);
      emit(pair.getTenantId(), version, "champion_accuracy", sum / kept, kept, at, Map.of());
    }
  }

  private void emit(
      String tenant,
      long version,
      String metric,
      double value,
      long n,
      Instant at,
      Map<String, Double> details) {
    DriftReport r =
        MonitorTopology.report(tenant, modelName, version, metric, value, n, at, at, details);
    context.forward(new Record<>(MonitorTopology.key(r), r, at.toEpochMilli()));
  }

  /** The champion's model, loaded once per version; null while it cannot be. */
  private RewardModel model(String key, long version) {
    String vk = key + "/" + version;
    RewardModel m = models.get(vk);
    if (m != null) {
      return m;
    }
    ValueAndTimestamp<CheckpointPublished> c = checkpoints.get(vk);
    if (c == null) {
      return null;
    }
    try {
      m = CheckpointLoader.load(c.value(), Device.cpu());
    } catch (CheckpointLoader.Refused e) {
      LOG.error("Concept drift cannot judge {}: {}", key, e.getMessage());
      return null;
    }
    for (var it = models.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (e.getKey().startsWith(key + "/")) {
        e.getValue().close();
        it.remove();
      }
    }
    models.put(vk, m);
    return m;
  }

  @Override
  public void close() {
    models.values().forEach(RewardModel::close);
    models.clear();
  }

  /** The state's serde: an array of doubles. */
  static final Serde<double[]> DOUBLES =
      Serdes.serdeFrom(
          (topic, v) -> {
            if (v == null) {
              return null;
            }
            ByteBuffer b = ByteBuffer.allocate(8 * v.length);
            for (double d : v) {
              b.putDouble(d);
            }
            return b.array();
          },
          (topic, bytes) -> {
            if (bytes == null) {
              return null;
            }
            ByteBuffer b = ByteBuffer.wrap(bytes);
            double[] v = new double[bytes.length / 8];
            for (int i = 0; i < v.length; i++) {
              v[i] = b.getDouble();
            }
            return v;
          });
}
