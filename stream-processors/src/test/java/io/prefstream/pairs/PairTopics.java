package io.prefstream.pairs;

import io.prefstream.avro.FeedbackEvent;
import io.prefstream.local.LocalKafka;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.TopicAdmin;
import io.prefstream.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Writes feedback to and reads committed records from a set of unique topics on a real broker. */
final class PairTopics {

  final LocalKafka kafka;
  final Topics topics;

  private PairTopics(LocalKafka kafka, Topics topics) {
    this.kafka = kafka;
    this.topics = topics;
  }

  /** Fresh topics under a unique prefix, created on the broker. */
  static PairTopics create(LocalKafka kafka) throws Exception {
    Topics topics = Topics.withPrefix("it-" + UUID.randomUUID().toString().substring(0, 8));
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      new TopicAdmin(admin, Duration.ofSeconds(30)).createMissing(topics.all(), (short) 1);
    }
    return new PairTopics(kafka, topics);
  }

  /** A job configuration reading and writing these topics, with a unique group and ids. */
  PairBuilderConfig config(Map<String, String> more) {
    Map<String, String> map = new java.util.HashMap<>(more);
    map.put("pairs.bootstrap-servers", kafka.bootstrapServers());
    map.put("pairs.topic-prefix", topics.prefix());
    map.put("pairs.group-id", topics.prefix() + "-group");
    map.put("pairs.transactional-id-prefix", topics.prefix() + "-" + UUID.randomUUID());
    map.put("pairs.checkpoint-interval", "500ms");
    try {
      map.put(
          "flink.execution.checkpointing.dir",
          java.nio.file.Files.createTempDirectory("pair-builder-checkpoints").toUri().toString());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return PairBuilderConfig.from(io.prefstream.config.Settings.of(map));
  }

  void send(Collection<FeedbackEvent> events) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    Topic<FeedbackEvent> feedback = topics.feedback();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (FeedbackEvent e : events) {
        producer.send(
            new ProducerRecord<>(
                feedback.name(),
                feedback.key(e).getBytes(StandardCharsets.UTF_8),
                feedback.valueSerde().serialize(feedback.name(), e)));
      }
    }
  }

  /** Raw bytes under a key, e.g. garbage that is not a FeedbackEvent. */
  void sendRaw(String key, byte[] value) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(
          new ProducerRecord<>(
              topics.feedback().name(), key.getBytes(StandardCharsets.UTF_8), value));
    }
  }

  /** Every committed record of a topic (read_committed, up to the last stable offset). */
  static <V extends SpecificRecord> List<V> readCommitted(LocalKafka kafka, Topic<V> topic) {
    return readCommitted(kafka, topic, r -> r);
  }

  static <V extends SpecificRecord, T> List<T> readCommitted(
      LocalKafka kafka, Topic<V> topic, Function<V, T> map) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    List<T> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (int i = 0; i < topic.partitions(); i++) {
        partitions.add(new TopicPartition(topic.name(), i));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + topic.name() + " to its end");
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          out.add(map.apply(topic.valueSerde().deserialize(topic.name(), r.value())));
        }
      }
    }
    return out;
  }
}
