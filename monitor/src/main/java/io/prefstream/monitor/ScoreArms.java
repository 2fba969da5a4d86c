package io.prefstream.monitor;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.prefstream.avro.ScoreRecord;
import io.prefstream.http.Caller;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The most recent served scores of each tenant/model by arm (champion, candidate, shadow), for the
 * dashboard's champion-versus-candidate distributions. Each arm keeps its last {@link #KEEP}
 * scores; a new version on an arm starts it afresh. Fed from the monitor's stream thread, read by
 * the HTTP server: every method is synchronized.
 */
final class ScoreArms {

  static final int KEEP = 2000;
  static final int BINS = 24;

  private static final class Arm {
    long version;
    final double[] scores = new double[KEEP];
    int size;
    int next;
    long total;

    void add(long v, double score) {
      if (v != version) {
        version = v;
        size = 0;
        next = 0;
      }
      scores[next] = score;
      next = (next + 1) % KEEP;
      size = Math.min(size + 1, KEEP);
      total++;
    }

    double[] values() {
      return Arrays.copyOf(scores, size);
    }
  }

  private final Map<String, Map<String, Arm>> models = new TreeMap<>();
  private final MeterRegistry meters;

  ScoreArms(MeterRegistry meters) {
    this.meters = meters;
  }

  void add(ScoreRecord s) {
    if (!Double.isFinite(s.getScore())) {
      return;
    }
    String name = s.getArm().name().toLowerCase(java.util.Locale.ROOT);
    Arm created = null;
    synchronized (this) {
      Map<String, Arm> arms =
          models.computeIfAbsent(s.getTenantId() + "/" + s.getModel(), k -> new TreeMap<>());
      Arm arm = arms.get(name);
      if (arm == null) {
        arm = created = new Arm();
        arms.put(name, arm);
      }
      arm.add(s.getVersion(), s.getScore());
    }
    if (created != null) { // outside the lock: a scrape holds the registry and reads the arms
      register(s.getTenantId(), s.getModel(), name, created);
    }
  }

  private void register(String tenant, String model, String name, Arm arm) {
    Map<String, Double> stats = new LinkedHashMap<>();
    stats.put("mean", Double.NaN);
    stats.put("p10", 0.1);
    stats.put("p50", 0.5);
    stats.put("p90", 0.9);
    stats.forEach(
        (stat, q) ->
            Gauge.builder("prefstream.monitor.score", arm, a -> statistic(a, q))
                .description("Served normalised scores by arm: mean and quantiles of the latest")
                .tags("tenant", tenant, "model", model, "arm", name, "stat", stat)
                .register(meters));
  }

  /** The mean of an arm's kept scores ({@code q} NaN) or their {@code q} quantile. */
  private double statistic(Arm arm, double q) {
    double[] v;
    synchronized (this) {
      v = arm.values();
    }
    if (v.length == 0) {
      return Double.NaN;
    }
    if (Double.isNaN(q)) {
      return Arrays.stream(v).average().orElse(Double.NaN);
    }
    Arrays.sort(v);
    return v[(int) Math.round(q * (v.length - 1))];
  }

  /**
   * Per tenant/model: shared bin edges over the pooled scores (1st to 99th percentile, so one
   * outlier does not squash the rest), and per arm its version, count, mean and the share of its
   * scores in each bin (the outer bins take what lies beyond).
   */
  synchronized void render(ArrayNode out, Caller caller) {
    for (Map.Entry<String, Map<String, Arm>> m : models.entrySet()) {
      if (!caller.sees(m.getKey().substring(0, m.getKey().indexOf('/')))) {
        continue;
      }
      double[] pooled =
          m.getValue().values().stream().flatMapToDouble(a -> Arrays.stream(a.values())).toArray();
      if (pooled.length == 0) {
        continue;
      }
      Arrays.sort(pooled);
      double lo = pooled[(int) (0.01 * (pooled.length - 1))];
      double hi = pooled[(int) Math.ceil(0.99 * (pooled.length - 1))];
      if (hi <= lo) {
        lo -= 0.5;
        hi += 0.5;
      }
      double width = (hi - lo) / BINS;
      ObjectNode model = out.addObject();
      model.put("model", m.getKey());
      ArrayNode edges = model.putArray("edges");
      for (int i = 0; i <= BINS; i++) {
        edges.add(lo + i * width);
      }
      ObjectNode arms = model.putObject("arms");
      for (Map.Entry<String, Arm> a : m.getValue().entrySet()) {
        double[] values = a.getValue().values();
        double[] shares = new double[BINS];
        double sum = 0;
        for (double v : values) {
          int bin = (int) Math.floor((v - lo) / width);
          shares[Math.max(0, Math.min(BINS - 1, bin))] += 1.0 / values.length;
          sum += v;
        }
        ObjectNode arm = arms.putObject(a.getKey());
        arm.put("version", a.getValue().version);
        arm.put("n", values.length);
        arm.put("total", a.getValue().total);
        if (values.length > 0) {
          arm.put("mean", sum / values.length);
        }
        ArrayNode s = arm.putArray("shares");
        for (double v : shares) {
          s.add(v);
        }
      }
    }
  }
}
