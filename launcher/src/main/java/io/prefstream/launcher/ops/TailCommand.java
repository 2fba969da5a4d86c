package io.prefstream.launcher.ops;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.launcher.ClusterOptions;
import io.prefstream.launcher.KafkaClients;
import io.prefstream.launcher.UserError;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Prints a prefstream topic's committed records as JSON lines. */
@Command(
    name = "tail",
    mixinStandardHelpOptions = true,
    description = "Print a topic's records as JSON lines (read_committed).")
public final class TailCommand implements Runnable {

  @Mixin ClusterOptions kafka;
  @Spec CommandSpec spec;

  @Parameters(
      paramLabel = "TOPIC",
      description = "A prefstream topic, by full (prefstream.pairs) or short name (pairs).")
  String topicName;

  @Option(names = "--from-beginning", description = "Start at the oldest record, not the end.")
  boolean fromBeginning;

  @Option(names = "--max", paramLabel = "N", description = "Stop after N records.")
  Long max;

  @Option(
      names = "--until-end",
      description = "Stop at the end offsets the topic had when tail started.")
  boolean untilEnd;

  @Option(
      names = "--with-metadata",
      description = "Wrap each value with its partition, offset, timestamp and key.")
  boolean withMetadata;

  @Override
  public void run() {
    if (max != null && max < 1) {
      throw new UserError("--max must be at least 1, got " + max);
    }
    Topics topics = kafka.topics();
    Topic<?> topic =
        topics
            .find(topicName)
            .orElseThrow(
                () ->
                    new UserError(
                        "Unknown topic '"
                            + topicName
                            + "'; prefstream topics are "
                            + topics.all().stream()
                                .map(Topic::name)
                                .collect(Collectors.joining(", "))));
    tail(topic);
  }

  private <V extends SpecificRecord> void tail(Topic<V> topic) {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    KafkaClients clients = kafka.clients();
    List<TopicPartition> partitions = partitionsOf(clients, topic.name());
    try (KafkaConsumer<byte[], byte[]> consumer = clients.consumer()) {
      consumer.assign(partitions);
      if (fromBeginning) {
        consumer.seekToBeginning(partitions);
      } else {
        consumer.seekToEnd(partitions);
      }
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, clients.timeout());
      long printed = 0;
      while (max == null || printed < max) {
        if (untilEnd && reachedEnd(consumer, ends)) {
          break;
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          if (untilEnd
              && record.offset()
                  >= ends.get(new TopicPartition(record.topic(), record.partition()))) {
            continue;
          }
          try {
            out.println(line(topic, record));
            printed++;
          } catch (SerializationException e) {
            err.printf(
                "prefstream: skipped %s-%d@%d: %s%n",
                record.topic(), record.partition(), record.offset(), e.getMessage());
            err.flush();
          }
          out.flush();
          if (max != null && printed >= max) {
            break;
          }
        }
      }
    }
  }

  private <V extends SpecificRecord> String line(
      Topic<V> topic, ConsumerRecord<byte[], byte[]> record) {
    V value = topic.valueSerde().deserialize(record.topic(), record.value());
    JsonForm<V> form = topic.jsonForm();
    if (!withMetadata) {
      return value == null ? "null" : form.print(value);
    }
    ObjectNode node = JsonForm.mapper().createObjectNode();
    node.put("partition", record.partition())
        .put("offset", record.offset())
        .put("timestamp", Instant.ofEpochMilli(record.timestamp()).toString())
        .put("key", record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8));
    if (value == null) {
      node.putNull("value");
    } else {
      node.set("value", form.toJson(value));
    }
    return node.toString();
  }

  private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> ends) {
    return ends.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
  }

  private List<TopicPartition> partitionsOf(KafkaClients clients, String name) {
    try (Admin admin = clients.connectedAdmin()) {
      TopicDescription description =
          admin
              .describeTopics(List.of(name))
              .allTopicNames()
              .get(clients.timeout().toMillis(), TimeUnit.MILLISECONDS)
              .get(name);
      return description.partitions().stream()
          .map(p -> new TopicPartition(name, p.partition()))
          .toList();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        throw new UserError(
            "Topic "
                + name
                + " does not exist at "
                + clients.bootstrap()
                + "; create the prefstream topics with './prefstream topics --create'");
      }
      throw clients.unreachable(e);
    } catch (TimeoutException e) {
      throw clients.unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("Interrupted", e);
    }
  }
}
