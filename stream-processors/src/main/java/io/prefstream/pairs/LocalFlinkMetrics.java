package io.prefstream.pairs;

import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A Flink metric reporter that keeps the metrics of jobs on this process's MiniCluster where this
 * process can read them: how far the pair builder's source has read, what it has counted.
 * Configured by {@link #configure}; Flink instantiates it in this JVM.
 */
public final class LocalFlinkMetrics implements MetricReporter {

  private static final Map<String, Metric> METRICS = new ConcurrentHashMap<>();

  /** The Flink settings ({@code flink.*} keys) that install this reporter. */
  public static Map<String, String> configure() {
    return Map.of("flink.metrics.reporter.prefstream.factory.class", Factory.class.getName());
  }

  /** The largest numeric value among the metrics whose identifier matches, or -1. */
  public static long max(Predicate<String> identifier) {
    long max = -1;
    for (Map.Entry<String, Metric> e : METRICS.entrySet()) {
      if (identifier.test(e.getKey())
          && e.getValue() instanceof Gauge<?> g
          && g.getValue() instanceof Number n) {
        max = Math.max(max, n.longValue());
      }
    }
    return max;
  }

  @Override
  public void open(MetricConfig config) {}

  @Override
  public void close() {}

  @Override
  public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
    METRICS.put(group.getMetricIdentifier(name), metric);
  }

  @Override
  public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
    METRICS.remove(group.getMetricIdentifier(name), metric);
  }

  /** Flink's way in. */
  public static final class Factory implements MetricReporterFactory {
    @Override
    public MetricReporter createMetricReporter(Properties properties) {
      return new LocalFlinkMetrics();
    }
  }
}
