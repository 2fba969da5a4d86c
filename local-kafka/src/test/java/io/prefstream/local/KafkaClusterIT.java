package io.prefstream.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three brokers in three JVMs: a replicated topic keeps every acknowledged record when one dies.
 */
@Timeout(300)
class KafkaClusterIT {

  @TempDir Path tmp;

  @Test
  void aReplicatedTopicLosesNothingWhenABrokerIsKilledAndComesBack() throws Exception {
    try (KafkaCluster cluster = new KafkaCluster(tmp, 3, Duration.ofSeconds(120)).start()) {
      TopicDescription described = cluster.createTopic("feedback", 4, 3, 2);
      assertThat(described.partitions())
          .hasSize(4)
          .allSatisfy(p -> assertThat(p.replicas()).hasSize(3));

      Map<String, Object> producerProps =
          Map.of(
              ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
              cluster.bootstrapServers(),
              ProducerConfig.ACKS_CONFIG,
              "all",
              ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
              true,
              ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
              120_000);
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(producerProps, new StringSerializer(), new StringSerializer())) {
        for (int i = 0; i < 1000; i++) {
          producer.send(new ProducerRecord<>("feedback", "k" + i, "v" + i)).get();
        }
        // The leader of partition 0 dies without a controlled shutdown; writes go on with two
        // replicas in sync.
        int victim = described.partitions().get(0).leader().id();
        cluster.kill(victim);
        assertThat(cluster.alive(victim)).isFalse();
        for (int i = 1000; i < 2000; i++) {
          producer.send(new ProducerRecord<>("feedback", "k" + i, "v" + i)).get();
        }
        cluster.restart(victim);
        for (int i = 2000; i < 2500; i++) {
          producer.send(new ProducerRecord<>("feedback", "k" + i, "v" + i)).get();
        }
      }

      Set<String> seen = new HashSet<>();
      int records = 0;
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(
              Map.of(
                  ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  cluster.bootstrapServers(),
                  ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                  "read_committed"),
              new StringDeserializer(),
              new StringDeserializer())) {
        List<TopicPartition> partitions =
            List.of(0, 1, 2, 3).stream().map(p -> new TopicPartition("feedback", p)).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (seen.size() < 2500 && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
            records++;
            seen.add(r.value());
          }
        }
      }
      assertThat(seen).hasSize(2500);
      assertThat(records).isEqualTo(2500);
    }
  }
}
