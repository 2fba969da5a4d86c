package io.prefstream.pairs;

import io.prefstream.avro.FeedbackEvent;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import io.prefstream.testing.KafkaFixture;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A set of unique topics on the suite's broker for one pair-builder job: its configuration, and
 * feedback written to them.
 */
final class PairTopics {

  final KafkaFixture kafka;
  final Topics topics;

  private PairTopics(KafkaFixture kafka, Topics topics) {
    this.kafka = kafka;
    this.topics = topics;
  }

  /** Fresh topics under a unique prefix, created on the broker. */
  static PairTopics create(KafkaFixture kafka) {
    return new PairTopics(kafka, kafka.freshTopics("pairs"));
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

  /** Writes the events in order, batched (one idempotent producer), and waits for all of them. */
  void send(Collection<FeedbackEvent> events) {
    Topic<FeedbackEvent> feedback = topics.feedback();
    try (KafkaProducer<String, FeedbackEvent> producer = kafka.producer(feedback)) {
      for (FeedbackEvent e : events) {
        producer.send(new ProducerRecord<>(feedback.name(), feedback.key(e), e));
      }
    }
  }

  /** Raw bytes under a key, e.g. garbage that is not a FeedbackEvent. */
  void sendRaw(String key, byte[] value) {
    try (KafkaProducer<String, byte[]> producer = kafka.bytesProducer()) {
      producer.send(new ProducerRecord<>(topics.feedback().name(), key, value));
    }
  }

  /** Every committed record of a topic (read_committed, up to the last stable offset). */
  static <V extends SpecificRecord> List<V> readCommitted(KafkaFixture kafka, Topic<V> topic) {
    return readCommitted(kafka, topic, r -> r);
  }

  static <V extends SpecificRecord, T> List<T> readCommitted(
      KafkaFixture kafka, Topic<V> topic, Function<V, T> map) {
    return kafka.readToEnd(topic).stream().map(r -> map.apply(r.value())).toList();
  }
}
