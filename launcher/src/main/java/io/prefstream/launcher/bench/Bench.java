package io.prefstream.launcher.bench;

import io.prefstream.launcher.UserError;
import io.prefstream.local.LocalKafka;
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
