package io.prefstream.trainer;

import io.prefstream.avro.RolloutState;
import io.prefstream.schemas.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The checkpoint versions that {@code prefstream.rollouts} names for each tenant's model: the
 * champion (pinned or not), the candidate, and the champion before it (what a rollback returns to):
 * those a scorer serves or may serve, which the trainer must not prune.
 */
@FunctionalInterface
public interface RolloutVersions {

  /**
   * Every version the rollouts name now, by {@code tenant/model}.
   *
   * @throws RuntimeException when the topic cannot be read: then nothing may be pruned
   */
  Map<String, Set<Long>> named();

  /**
   * Reads the compacted rollouts topic from its beginning to its current end with a short-lived
   * consumer (no group), keeping the latest state of each tenant's model.
   */
  static RolloutVersions kafka(
      Topic<RolloutState> topic, Supplier<Consumer<String, byte[]>> consumers) {
    return () -> {
      Map<String, RolloutState> latest = new HashMap<>();
      try (Consumer<String, byte[]> consumer = consumers.get()) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (var info : consumer.partitionsFor(topic.name(), Duration.ofSeconds(10))) {
          partitions.add(new TopicPartition(info.topic(), info.partition()));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> ends = new HashMap<>(consumer.endOffsets(partitions));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        ends.entrySet().removeIf(e -> e.getValue() == 0);
        while (!ends.isEmpty()) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                "could not read " + topic.name() + " to its end within 30 s");
          }
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            if (r.value() == null) {
              latest.remove(r.key());
            } else {
              latest.put(r.key(), topic.valueSerde().deserialize(r.topic(), r.value()));
            }
          }
          ends.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
        }
      }
      Map<String, Set<Long>> named = new HashMap<>();
      for (RolloutState s : latest.values()) {
        Set<Long> versions =
            named.computeIfAbsent(s.getTenantId() + "/" + s.getModel(), k -> new HashSet<>());
        if (s.getChampionVersion() != null) {
          versions.add(s.getChampionVersion());
        }
        if (s.getCandidateVersion() != null) {
          versions.add(s.getCandidateVersion());
        }
        Long previous = previousChampion(s);
        if (previous != null) {
          versions.add(previous);
        }
      }
      return named;
    };
  }

  /** The champion before the current one: the last promoted or pinned version that is not it. */
  private static Long previousChampion(RolloutState s) {
    Long current = s.getChampionVersion();
    var history = s.getHistory();
    for (int i = history.size() - 1; i >= 0 && current != null; i--) {
      var d = history.get(i);
      boolean served =
          d.getAction() == io.prefstream.avro.RolloutAction.PROMOTE
              || d.getAction() == io.prefstream.avro.RolloutAction.PIN;
      if (served && d.getVersion() != current) {
        return d.getVersion();
      }
    }
    return null;
  }

  /** The Kafka reader for a trainer's configuration. */
  static RolloutVersions kafka(TrainerConfig config, Topic<RolloutState> topic) {
    return kafka(
        topic,
        () -> {
          Properties c = new Properties();
          c.putAll(config.kafka());
          c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
          c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
          c.put(ConsumerConfig.CLIENT_ID_CONFIG, "prefstream-trainer-retention");
          return new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        });
  }
}
