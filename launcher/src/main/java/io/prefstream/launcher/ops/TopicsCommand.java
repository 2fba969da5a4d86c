package io.prefstream.launcher.ops;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.launcher.ClusterOptions;
import io.prefstream.launcher.KafkaClients;
import io.prefstream.launcher.UserError;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.TopicAdmin;
import io.prefstream.schemas.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Lists topics with partitions, cleanup policy, retention and end offsets; can create ours. */
@Command(
    name = "topics",
    mixinStandardHelpOptions = true,
    description =
        "List topics with partitions, configs and end offsets, on any Kafka (--bootstrap).")
public final class TopicsCommand implements Runnable {

  @Mixin ClusterOptions kafka;
  @Spec CommandSpec spec;

  @Option(names = "--create", description = "Create the missing prefstream topics first.")
  boolean create;

  @Option(
      names = "--replication-factor",
      paramLabel = "N",
      defaultValue = "1",
      description = "Replicas of topics created with --create. Default: ${DEFAULT-VALUE}.")
  short replicationFactor;

  @Option(
      names = "--all",
      description =
          "Also list internal topics (__consumer_offsets, Kafka Streams changelogs and"
              + " repartition topics).")
  boolean all;

  @Option(names = "--json", description = "Print one JSON array instead of a table.")
  boolean json;

  /** What is known of one topic. */
  record Row(
      String name,
      boolean exists,
      int partitions,
      String cleanupPolicy,
      String retentionMs,
      List<Long> endOffsets) {}

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    Topics topics = kafka.topics();
    KafkaClients clients = kafka.clients();
    try (Admin admin = clients.connectedAdmin()) {
      TopicAdmin topicAdmin = new TopicAdmin(admin, clients.timeout());
      if (create) {
        if (replicationFactor < 1) {
          throw new UserError("--replication-factor must be at least 1, got " + replicationFactor);
        }
        List<String> created = topicAdmin.createMissing(topics.all(), replicationFactor);
        out.println("created " + (created.isEmpty() ? "nothing: every topic exists" : created));
      }
      List<Row> rows = describe(admin, topics, clients.timeout());
      if (json) {
        printJson(out, rows);
      } else {
        printTable(out, rows);
      }
    } catch (ExecutionException | TimeoutException e) {
      throw clients.unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("Interrupted", e);
    }
  }

  private List<Row> describe(Admin admin, Topics topics, Duration timeout)
      throws InterruptedException, ExecutionException, TimeoutException {
    long ms = timeout.toMillis();
    Set<String> names =
        admin
            .listTopics(new ListTopicsOptions().listInternal(all))
            .names()
            .get(ms, TimeUnit.MILLISECONDS)
            .stream()
            // Kafka Streams' own changelog and repartition topics are internal too
            .filter(n -> all || !(n.endsWith("-changelog") || n.endsWith("-repartition")))
            .collect(Collectors.toSet());
    Map<String, TopicDescription> descriptions =
        admin.describeTopics(names).allTopicNames().get(ms, TimeUnit.MILLISECONDS);
    List<ConfigResource> resources =
        names.stream().map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
    Map<ConfigResource, Config> configs =
        admin.describeConfigs(resources).all().get(ms, TimeUnit.MILLISECONDS);
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    descriptions
        .values()
        .forEach(
            d ->
                d.partitions()
                    .forEach(
                        p ->
                            latest.put(
                                new TopicPartition(d.name(), p.partition()), OffsetSpec.latest())));
    Map<TopicPartition, ListOffsetsResultInfo> offsets =
        admin.listOffsets(latest).all().get(ms, TimeUnit.MILLISECONDS);

    Map<String, Row> rows = new TreeMap<>();
    for (TopicDescription d : descriptions.values()) {
      Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, d.name()));
      List<Long> ends =
          d.partitions().stream()
              .map(p -> offsets.get(new TopicPartition(d.name(), p.partition())).offset())
              .toList();
      rows.put(
          d.name(),
          new Row(
              d.name(),
              true,
              d.partitions().size(),
              config.get("cleanup.policy").value(),
              config.get("retention.ms").value(),
              ends));
    }
    List<Row> ordered = new ArrayList<>();
    for (Topic<?> topic : topics.all()) {
      Row row = rows.remove(topic.name());
      ordered.add(row != null ? row : new Row(topic.name(), false, 0, "-", "-", List.of()));
    }
    ordered.addAll(rows.values());
    return ordered;
  }

  private static void printTable(PrintWriter out, List<Row> rows) {
    out.printf(
        "%-30s %10s  %-14s %10s  %s%n",
        "TOPIC", "PARTITIONS", "CLEANUP", "RETENTION", "END OFFSETS");
    for (Row row : rows) {
      if (!row.exists()) {
        out.printf(
            "%-30s %10s  (missing: './prefstream topics --create' creates it)%n", row.name(), "-");
        continue;
      }
      long total = row.endOffsets().stream().mapToLong(Long::longValue).sum();
      out.printf(
          "%-30s %10d  %-14s %10s  %d %s%n",
          row.name(),
          row.partitions(),
          row.cleanupPolicy(),
          row.cleanupPolicy().equals("compact") ? "-" : retention(row.retentionMs()),
          total,
          row.endOffsets().stream()
              .map(String::valueOf)
              .collect(Collectors.joining(",", "[", "]")));
    }
    out.flush();
  }

  private static void printJson(PrintWriter out, List<Row> rows) {
    ArrayNode array = JsonForm.mapper().createArrayNode();
    for (Row row : rows) {
      ObjectNode node = array.addObject();
      node.put("topic", row.name()).put("exists", row.exists());
      if (row.exists()) {
        node.put("partitions", row.partitions())
            .put("cleanup_policy", row.cleanupPolicy())
            .put("retention_ms", Long.parseLong(row.retentionMs()));
        row.endOffsets().forEach(node.putArray("end_offsets")::add);
      }
    }
    out.println(array);
    out.flush();
  }

  private static String retention(String ms) {
    long millis = Long.parseLong(ms);
    if (millis < 0) {
      return "forever";
    }
    Duration d = Duration.ofMillis(millis);
    return d.toHours() % 24 == 0 && d.toDays() > 0 ? d.toDays() + "d" : d.toHours() + "h";
  }
}
