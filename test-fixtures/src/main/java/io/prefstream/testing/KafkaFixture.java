package io.prefstream.it;

import io.prefstream.local.LocalKafka;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.TopicAdmin;
import io.prefstream.schemas.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The real broker an integration suite runs against, chosen by one switch, {@code
 * -Dprefstream.it.broker} (or {@code PREFSTREAM_IT_BROKER}):
 *
 * <ul>
 *   <li>{@code embedded} (the default): the embedded KRaft broker ({@link LocalKafka}) on a free
 *       port, in this JVM;
 *   <li>{@code testcontainers}: Testcontainers' Kafka module running the {@code apache/kafka} image
 *       ({@code -Dprefstream.it.kafka-image}, default {@link #IMAGE}), where a Docker engine
 *       exists. Without one it fails and says so: it never skips.
 * </ul>
 *
 * Either way the topics are created under a prefix unique to the suite, with their definitions.
 */
final class KafkaFixture implements AutoCloseable {

  /** The image when no {@code prefstream.it.kafka-image} is set (the build sets the client's). */
  static final String IMAGE = "apache/kafka:4.2.2";

  private final String bootstrap;
  private final Topics topics;
  private final AutoCloseable broker;

  private KafkaFixture(String bootstrap, Topics topics, AutoCloseable broker) {
    this.bootstrap = bootstrap;
    this.topics = topics;
    this.broker = broker;
  }

  /** Which broker the switch names. */
  static String kind() {
    String v = System.getProperty("prefstream.it.broker", System.getenv("PREFSTREAM_IT_BROKER"));
    return v == null || v.isBlank() ? "embedded" : v.strip();
  }

  static KafkaFixture start(String suite) {
    Topics topics =
        Topics.withPrefix("it-" + suite + "-" + UUID.randomUUID().toString().substring(0, 8));
    switch (kind()) {
      case "embedded":
        LocalKafka kafka = LocalKafka.builder().optPort(0).optTopics(topics).build().start();
        return new KafkaFixture(kafka.bootstrapServers(), topics, kafka);
      case "testcontainers":
        return container(topics);
      default:
        throw new IllegalArgumentException(
            "prefstream.it.broker must be embedded or testcontainers, got '" + kind() + "'");
    }
  }

  private static KafkaFixture container(Topics topics) {
    if (!DockerClientFactory.instance().isDockerAvailable()) {
      throw new IllegalStateException(
          "prefstream.it.broker=testcontainers needs a Docker engine, and none answers here;"
              + " run with the default (embedded) broker instead");
    }
    KafkaContainer kafka =
        new KafkaContainer(
            DockerImageName.parse(System.getProperty("prefstream.it.kafka-image", IMAGE)));
    kafka.start();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.getBootstrapServers()))) {
      new TopicAdmin(admin, Duration.ofSeconds(60)).createMissing(topics.all(), (short) 1);
    } catch (Exception e) {
      kafka.stop();
      throw new IllegalStateException("creating the topics in the container failed", e);
    }
    return new KafkaFixture(kafka.getBootstrapServers(), topics, kafka::stop);
  }

  String bootstrapServers() {
    return bootstrap;
  }

  Topics topics() {
    return topics;
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
  public void close() throws Exception {
    broker.close();
  }
}
