package io.prefstream.it;

import io.prefstream.local.LocalKafka;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import java.util.Properties;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The real broker an integration suite runs against: the embedded KRaft broker ({@link LocalKafka})
 * on a free port, with topics under a prefix unique to the suite.
 */
final class KafkaFixture implements AutoCloseable {

  private final LocalKafka kafka;

  private KafkaFixture(LocalKafka kafka) {
    this.kafka = kafka;
  }

  static KafkaFixture start(String suite) {
    Topics topics =
        Topics.withPrefix("it-" + suite + "-" + UUID.randomUUID().toString().substring(0, 8));
    return new KafkaFixture(LocalKafka.builder().optPort(0).optTopics(topics).build().start());
  }

  String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  Topics topics() {
    return kafka.topics();
  }

  /** An idempotent, acks=all producer of one topic's records through its real serde. */
  <V extends SpecificRecord> KafkaProducer<String, V> producer(Topic<V> topic) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(p, new StringSerializer(), topic.valueSerde().serializer());
  }

  /** A second, independent client that reads committed records of one topic. */
  <V extends SpecificRecord> KafkaConsumer<String, V> consumer(Topic<V> topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return new KafkaConsumer<>(p, new StringDeserializer(), topic.valueSerde().deserializer());
  }

  @Override
  public void close() {
    kafka.close();
  }
}
