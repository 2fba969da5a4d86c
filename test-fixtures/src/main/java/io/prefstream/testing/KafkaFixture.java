package io.prefstream.testing;

import io.prefstream.local.LocalKafka;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.TopicAdmin;
import io.prefstream.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
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
 * Either way the topics are created under a prefix unique to the suite, with their definitions;
 * {@link #freshTopics} makes another such set for a test that wants topics of its own. Records are
 * written and read through each topic's real key and serde.
 *
 * <p>A suite registers it as a JUnit extension, as Flink's {@code MiniClusterExtension} is, and the
 * broker runs from before its first test to after its last:
 *
 * <pre>{@code @RegisterExtension static final KafkaFixture KAFKA = KafkaFixture.suite("trainer");}
 * </pre>
 *
 * A single test may instead hold one: {@code try (KafkaFixture kafka = KafkaFixture.start("x"))}.
 */
public final class KafkaFixture implements AutoCloseable, BeforeAllCallback, AfterAllCallback {

  /** The image when no {@code prefstream.it.kafka-image} is set (the build sets the client's). */
  public static final String IMAGE = "apache/kafka:4.2.2";

  private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

  /** A running broker: where it answers, the suite's topics, and how to stop it. */
  private record Running(String bootstrap, Topics topics, AutoCloseable broker) {}

  private final String suite;
  private volatile Running running;

  private KafkaFixture(String suite) {
    this.suite = suite;
  }

  /** A fixture for a suite to register with {@code @RegisterExtension} on a static field. */
  public static KafkaFixture suite(String suite) {
    return new KafkaFixture(suite);
  }

  /** Starts the broker the switch names, with every topic under a prefix naming {@code suite}. */
  public static KafkaFixture start(String suite) {
    KafkaFixture fixture = new KafkaFixture(suite);
    fixture.running = fixture.startBroker();
    return fixture;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    running = startBroker();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    close();
  }

  /** Which broker the switch names. */
  public static String kind() {
    String v = System.getProperty("prefstream.it.broker", System.getenv("PREFSTREAM_IT_BROKER"));
    return v == null || v.isBlank() ? "embedded" : v.strip();
  }

  private Running startBroker() {
    Topics topics = uniqueTopics(suite);
    switch (kind()) {
      case "embedded":
        LocalKafka kafka = LocalKafka.builder().optPort(0).optTopics(topics).build().start();
        return new Running(kafka.bootstrapServers(), topics, kafka);
      case "testcontainers":
        return container(topics);
      default:
        throw new IllegalArgumentException(
            "prefstream.it.broker must be embedded or testcontainers, got '" + kind() + "'");
    }
  }

  private Running running() {
    Running r = running;
    if (r == null) {
      throw new IllegalStateException(
          "the "
              + suite
              + " broker is not running: register the fixture with @RegisterExtension on a static"
              + " field, or use KafkaFixture.start");
    }
    return r;
  }

  private static Topics uniqueTopics(String suite) {
    return Topics.withPrefix("it-" + suite + "-" + UUID.randomUUID().toString().substring(0, 8));
  }

  private static Running container(Topics topics) {
    if (!DockerClientFactory.instance().isDockerAvailable()) {
      throw new IllegalStateException(
          "prefstream.it.broker=testcontainers needs a Docker engine, and none answers here;"
              + " run with the default (embedded) broker instead");
    }
    KafkaContainer kafka =
        new KafkaContainer(
            DockerImageName.parse(System.getProperty("prefstream.it.kafka-image", IMAGE)));
    kafka.start();
    try {
      createTopics(kafka.getBootstrapServers(), topics);
    } catch (RuntimeException e) {
      kafka.stop();
      throw e;
    }
    return new Running(kafka.getBootstrapServers(), topics, kafka::stop);
  }

  private static void createTopics(String bootstrap, Topics topics) {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      new TopicAdmin(admin, ADMIN_TIMEOUT).createMissing(topics.all(), (short) 1);
    } catch (Exception e) {
      throw new IllegalStateException("creating the topics " + topics.prefix() + ".* failed", e);
    }
  }

  public String bootstrapServers() {
    return running().bootstrap();
  }

  /** The suite's topics, created at start. */
  public Topics topics() {
    return running().topics();
  }

  /**
   * Another set of every topic, under a new prefix naming {@code suite}, created on this broker.
   */
  public Topics freshTopics(String suite) {
    Topics fresh = uniqueTopics(suite);
    createTopics(bootstrapServers(), fresh);
    return fresh;
  }

  /** An idempotent, acks=all producer of one topic's records through its real serde. */
  public <V extends SpecificRecord> KafkaProducer<String, V> producer(Topic<V> topic) {
    return new KafkaProducer<>(
        producerProperties(), new StringSerializer(), topic.valueSerde().serializer());
  }

  /** An idempotent, acks=all producer of raw bytes, for records a test encodes itself. */
  public KafkaProducer<String, byte[]> bytesProducer() {
    return new KafkaProducer<>(
        producerProperties(), new StringSerializer(), new ByteArraySerializer());
  }

  private Properties producerProperties() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    return p;
  }

  /**
   * Writes {@code values} to {@code topic}, keyed as the topic keys them, one acknowledged send at
   * a time: a retried batch is then always the broker's newest (a CI run saw the retry of an older
   * batch refused as out of sequence and its records lost).
   */
  public <V extends SpecificRecord> void send(Topic<V> topic, Iterable<V> values) {
    try (KafkaProducer<String, V> producer = producer(topic)) {
      for (V value : values) {
        producer
            .send(new ProducerRecord<>(topic.name(), topic.key(value), value))
            .get(SEND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      throw new IllegalStateException("writing to " + topic.name() + " failed", e);
    }
  }

  /** A second, independent client that reads committed records of one topic. */
  public <V extends SpecificRecord> KafkaConsumer<String, V> consumer(Topic<V> topic) {
    return new KafkaConsumer<>(
        consumerProperties(), new StringDeserializer(), topic.valueSerde().deserializer());
  }

  private Properties consumerProperties() {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return p;
  }

  /**
   * Every committed record of {@code topic} up to its end now (read_committed: up to the last
   * stable offset), partition by partition, decoded by its serde; a tombstone's value is null.
   * Fails when the end is not reached within 60 s.
   */
  public <V extends SpecificRecord> List<ConsumerRecord<String, V>> readToEnd(Topic<V> topic) {
    return readToEnd(bootstrapServers(), topic);
  }

  /**
   * As {@link #readToEnd(Topic)}, from any broker (e.g. one a test stops and restarts on its port,
   * which this fixture does not do).
   */
  public static <V extends SpecificRecord> List<ConsumerRecord<String, V>> readToEnd(
      String bootstrap, Topic<V> topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    List<ConsumerRecord<String, V>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic.name()).stream()
              .map(i -> new TopicPartition(i.topic(), i.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "could not read " + topic.name() + " to its end within " + READ_TIMEOUT);
        }
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          V value = r.value() == null ? null : topic.valueSerde().deserialize(r.topic(), r.value());
          out.add(
              new ConsumerRecord<>(
                  r.topic(),
                  r.partition(),
                  r.offset(),
                  r.timestamp(),
                  r.timestampType(),
                  r.serializedKeySize(),
                  r.serializedValueSize(),
                  r.key(),
                  value,
                  r.headers(),
                  r.leaderEpoch()));
        }
      }
    }
    return out;
  }

  /** Stops the broker (a second close does nothing). */
  @Override
  public void close() throws Exception {
    Running r = running;
    running = null;
    if (r != null) {
      r.broker().close();
    }
  }
}
