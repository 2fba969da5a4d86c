package io.prefstream.scorer.rollout;

import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.RolloutState;
import io.prefstream.config.KafkaConnection;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import io.prefstream.schemas.lag.PairLag;
import io.prefstream.schemas.lag.PairLagTracker;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.function.UnaryOperator;
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

/**
 * Manual rollout overrides ({@code rollout pin|unpin|promote|rollback}) and {@code rollout status}:
 * read the current state from {@code prefstream.rollouts}, apply the change with who did it and
 * why, and write it back. The active controller adopts a state it did not write as soon as it reads
 * it; an override written in the very moment the controller commits its own decision for the same
 * model can be superseded by it, which {@code rollout status} shows.
 */
public final class RolloutCommands {

  private final Map<String, Object> kafka;
  private final Topic<RolloutState> rollouts;
  private final Topic<CheckpointPublished> checkpoints;
  private final Duration timeout;
  private final String pairsTopic;

  public RolloutCommands(Map<String, Object> kafka, Topics topics) {
    this(kafka, topics, Duration.ofSeconds(30));
  }

  /**
   * @param timeout how long to wait for Kafka to answer: reading a topic to its end, or writing a
   *     state; past it, an {@link IllegalStateException} that says where nothing answered
   */
  public RolloutCommands(Map<String, Object> kafka, Topics topics, Duration timeout) {
    this.kafka = Map.copyOf(kafka);
    this.rollouts = topics.rollouts();
    this.checkpoints = topics.checkpoints();
    this.pairsTopic = topics.pairs().name();
    this.timeout = timeout;
  }

  private IllegalStateException noAnswer(String what, Exception cause) {
    return new IllegalStateException(
        "no answer from Kafka at "
            + kafka.get("bootstrap.servers")
            + " within "
            + timeout.toSeconds()
            + " s "
            + what
            + " (is a broker running there, and the topic created?)",
        cause);
  }

  /** Every model's rollout state, by tenant/model. */
  public Map<String, RolloutState> status() {
    Map<String, RolloutState> states = new TreeMap<>();
    for (RolloutState s : readAll(rollouts)) {
      states.put(s.getTenantId() + "/" + s.getModel(), s);
    }
    return states;
  }

  /**
   * How far the champion and candidate of each of {@code states} lie behind the pairs topic, by
   * {@code tenant/model/vN}: the tenant's pairs committed after the positions each checkpoint was
   * trained through, and the oldest one's age (its record time: this reads a backlog once).
   */
  public Map<String, PairLag.Lag> lags(Map<String, RolloutState> states) {
    Map<String, CheckpointPublished> published = new HashMap<>();
    for (CheckpointPublished c : readAll(checkpoints)) {
      published.put(c.getTenantId() + "/" + c.getModel() + "/v" + c.getVersion(), c);
    }
    Map<String, PairLagTracker.Model> served = new TreeMap<>();
    for (RolloutState s : states.values()) {
      for (Long v : new Long[] {s.getChampionVersion(), s.getCandidateVersion()}) {
        String key = s.getTenantId() + "/" + s.getModel() + "/v" + v;
        if (v != null && published.containsKey(key)) {
          served.put(key, PairLagTracker.Model.of(published.get(key), pairsTopic));
        }
      }
    }
    Map<String, PairLag.Lag> lags = new TreeMap<>();
    if (served.isEmpty()) {
      return lags;
    }
    Map<String, Object> client = new HashMap<>(kafka);
    client.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    PairLagTracker tracker =
        PairLagTracker.kafka(client, pairsTopic, "prefstream-cli-lag", served::values);
    try {
      if (!tracker.catchUp(timeout)) {
        throw noAnswer("reading " + pairsTopic + " to its end", null);
      }
      served.forEach((k, m) -> lags.put(k, tracker.lag(m)));
    } catch (org.apache.kafka.common.errors.TimeoutException e) {
      throw noAnswer("reading " + pairsTopic, e);
    } finally {
      tracker.close();
    }
    return lags;
  }

  /** The published versions of a tenant's model. */
  public java.util.SortedSet<Long> versions(String tenant, String model) {
    java.util.SortedSet<Long> versions = new java.util.TreeSet<>();
    for (CheckpointPublished c : readAll(checkpoints)) {
      if (c.getTenantId().equals(tenant) && c.getModel().equals(model)) {
        versions.add(c.getVersion());
      }
    }
    return versions;
  }

  private <T extends org.apache.avro.specific.SpecificRecord> List<T> readAll(Topic<T> topic) {
    Properties p = new Properties();
    p.putAll(kafka);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    List<T> records = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    try (var consumer =
        new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (var info : consumer.partitionsFor(topic.name(), timeout)) {
        partitions.add(new TopicPartition(info.topic(), info.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = new HashMap<>(consumer.endOffsets(partitions, timeout));
      while (!ends.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.value() != null) {
            records.add(topic.valueSerde().deserialize(r.topic(), r.value()));
          }
        }
        ends.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
      }
      if (!ends.isEmpty()) {
        throw noAnswer("reading " + topic.name() + " to its end", null);
      }
    } catch (org.apache.kafka.common.errors.TimeoutException e) {
      throw noAnswer("reading " + topic.name(), e);
    } catch (org.apache.kafka.common.errors.AuthenticationException
        | org.apache.kafka.common.errors.AuthorizationException e) {
      throw new IllegalStateException(KafkaConnection.explain(kafka, e), e);
    }
    return records;
  }

  public RolloutState pin(String tenant, String model, long version, String actor, String why) {
    java.util.SortedSet<Long> published = versions(tenant, model);
    if (!published.contains(version)) {
      throw new IllegalStateException(
          tenant
              + "/"
              + model
              + " v"
              + version
              + " has not been published (published: "
              + (published.isEmpty() ? "none" : published)
              + ")");
    }
    return change(tenant, model, s -> Rollouts.pin(s, version, why, actor, Instant.now()));
  }

  public RolloutState unpin(String tenant, String model, String actor, String why) {
    return change(tenant, model, s -> Rollouts.unpin(s, why, actor, Instant.now()));
  }

  public RolloutState promote(String tenant, String model, String actor, String why) {
    return change(tenant, model, s -> Rollouts.promote(s, why, actor, null, Instant.now()));
  }

  public RolloutState rollback(String tenant, String model, String actor, String why) {
    return change(tenant, model, s -> Rollouts.rollback(s, why, actor, null, Instant.now()));
  }

  private RolloutState change(String tenant, String model, UnaryOperator<RolloutState> how) {
    String key = tenant + "/" + model;
    RolloutState current = status().get(key);
    if (current == null) {
      current = Rollouts.empty(tenant, model, Instant.now());
    }
    RolloutState next = how.apply(current);
    Properties p = new Properties();
    p.putAll(kafka);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout.toMillis() + 1000);
    try (var producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      producer
          .send(
              new ProducerRecord<>(
                  rollouts.name(),
                  rollouts.key(next),
                  rollouts.valueSerde().serialize(rollouts.name(), next)))
          .get(timeout.toMillis() + 1000, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted writing the rollout state", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "could not write the rollout state: " + KafkaConnection.explain(kafka, e.getCause()), e);
    } catch (java.util.concurrent.TimeoutException
        | org.apache.kafka.common.errors.TimeoutException e) {
      throw noAnswer("writing " + rollouts.name(), e);
    }
    return next;
  }
}
