package io.prefstream.launcher.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.launcher.UserError;
import io.prefstream.local.LocalKafka;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.TopicAdmin;
import io.prefstream.schemas.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;

/**
 * {@code bench NAME}: each benchmark prints its figures beside a baseline measured in the same run,
 * and ends with one JSON line {@code {"bench", "value", "unit", "baseline_name", "baseline",
 * "ratio", ...}}.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    subcommands = {
      BenchIngestCommand.class,
      BenchPairsCommand.class,
      BenchTrainCommand.class,
      BenchScoreCommand.class,
      BenchFreshnessCommand.class
    },
    description = "Run a benchmark beside its baseline; the last line is a JSON of figures.")
public final class Bench implements Runnable {

  @Override
  public void run() {
    throw new UserError(
        "name a benchmark: ingest, pairs, train, score, freshness (./prefstream bench --help)");
  }

  static void createTopics(LocalKafka kafka, Topics topics) {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      new TopicAdmin(admin, Duration.ofSeconds(30)).createMissing(topics.all(), (short) 1);
    } catch (Exception e) {
      throw new UserError("bench: cannot create topics: " + e, e);
    }
  }

  /** The figures every benchmark's last line starts with: value, baseline and their ratio. */
  static ObjectNode figures(
      String bench, double value, String unit, String baselineName, double baseline) {
    ObjectNode figures = JsonForm.mapper().createObjectNode();
    figures.put("bench", bench);
    putRounded(figures, "value", value);
    figures.put("unit", unit);
    figures.put("baseline_name", baselineName);
    putRounded(figures, "baseline", baseline);
    figures.put("ratio", Math.round(value / baseline * 1000) / 1000.0);
    return figures;
  }

  /** A rate as printed: whole from 100 up, else three significant digits (6.09, not 6). */
  static void putRounded(ObjectNode figures, String key, double value) {
    if (!Double.isFinite(value) || Math.abs(value) >= 100 || value == 0) {
      figures.put(key, Math.round(value));
    } else {
      figures.put(
          key, new java.math.BigDecimal(value).round(new java.math.MathContext(3)).doubleValue());
    }
  }

  static double median(List<Double> values) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  static double percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }
}
