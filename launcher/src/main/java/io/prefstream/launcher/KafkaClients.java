package io.prefstream.launcher;

import io.prefstream.config.KafkaConnection;
import io.prefstream.schemas.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Kafka clients for the command line, with timeouts short enough that an unreachable broker is
 * reported within seconds, naming the address.
 */
public final class KafkaClients {

  private final String bootstrap;
  private final Duration timeout;
  private final Map<String, String> settings;

  /** Clients of an unsecured cluster (the local broker of {@code up} and {@code demo}). */
  public KafkaClients(String bootstrap, Duration timeout) {
    this(bootstrap, timeout, Map.of());
  }

  /**
   * @param settings Kafka client settings ({@code security.protocol}, {@code sasl.*}, {@code
   *     ssl.*}, ...) given to every client, beneath the timeouts set here
   */
  public KafkaClients(String bootstrap, Duration timeout, Map<String, String> settings) {
    this.bootstrap = bootstrap;
    this.timeout = timeout;
    this.settings = Map.copyOf(settings);
  }

  /** The client configuration every client here starts from: the settings and the bootstrap. */
  public Map<String, Object> config() {
    return KafkaConnection.client(bootstrap, settings);
  }

  public String bootstrap() {
    return bootstrap;
  }

  public Duration timeout() {
    return timeout;
  }

  /** An admin client that has reached the cluster, or a {@link UserError} saying it could not. */
  public Admin connectedAdmin() {
    Admin admin = create(() -> Admin.create(common()));
    try {
      admin.describeCluster().clusterId().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return admin;
    } catch (ExecutionException e) {
      admin.close(Duration.ZERO);
      throw unreachable(e.getCause());
    } catch (TimeoutException e) {
      admin.close(Duration.ZERO);
      throw unreachable(e);
    } catch (InterruptedException e) {
      admin.close(Duration.ZERO);
      Thread.currentThread().interrupt();
      throw new UserError("Interrupted while connecting to Kafka at " + bootstrap, e);
    }
  }

  /** Idempotent producer with acks=all: a send that returns is on the broker. */
  public KafkaProducer<byte[], byte[]> producer() {
    Properties p = common();
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) timeout.toMillis());
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout.toMillis() + 30_000);
    return create(
        () -> new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer()));
  }

  /** A consumer of committed records only, with no group: callers assign partitions. */
  public KafkaConsumer<byte[], byte[]> consumer() {
    Properties p = common();
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    return create(
        () -> new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer()));
  }

  /**
   * Every committed record of a topic, from the beginning to the last stable offset found at the
   * start; fails if that takes more than a minute.
   */
  public <V extends SpecificRecord> long readCommitted(Topic<V> topic, Consumer<V> each) {
    long records = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (int p = 0; p < topic.partitions(); p++) {
        partitions.add(new TopicPartition(topic.name(), p));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
        if (System.nanoTime() > deadline) {
          throw new UserError("could not read " + topic.name() + " to its end within 60 s");
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          each.accept(topic.valueSerde().deserialize(r.topic(), r.value()));
          records++;
        }
      }
    }
    return records;
  }

  /**
   * Why a client failed with {@code e}: the cluster refused its credentials or TLS handshake
   * (naming the principal), or did not answer.
   */
  public UserError unreachable(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof AuthenticationException || c instanceof AuthorizationException) {
        return new UserError(KafkaConnection.explain(config(), e), e);
      }
    }
    return new UserError(
        "Cannot reach Kafka at "
            + bootstrap
            + " within "
            + timeout.toSeconds()
            + " s. Is a broker running there? Start a local one with './prefstream up', or pass"
            + " --bootstrap HOST:PORT.",
        e);
  }

  private Properties common() {
    Properties p = new Properties();
    p.putAll(settings);
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.putIfAbsent(CommonClientConfigs.CLIENT_ID_CONFIG, "prefstream-cli");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    p.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    p.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, 2_000L);
    p.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, 2_000L);
    p.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000L);
    return p;
  }

  private <T> T create(Supplier<T> factory) {
    try {
      return factory.get();
    } catch (KafkaException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new UserError(
          settings.isEmpty()
              ? "Cannot use Kafka bootstrap servers '" + bootstrap + "': " + cause.getMessage()
              : KafkaConnection.explain(config(), e),
          e);
    }
  }
}
