package io.prefstream.schemas.lag;

import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.TopicPartitionOffset;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the pairs topic (read_committed, keys only: a pair's key starts with its tenant) from the
 * lowest position any served model is trained through, into a {@link PairLag}, so the serving lag
 * of each model (pairs committed after its checkpoint's recorded positions, and the age of the
 * oldest) can be read at any time. A pair's append time is when this tracker first saw it while at
 * the head of its partition (within a poll of the commit); a pair read from a backlog (at start, or
 * after seeking back for an older model) has its record timestamp, the pair's event time, kept
 * between this tracker's start and now. The thin Kafka shell around the bookkeeping.
 */
public final class PairLagTracker implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(PairLagTracker.class);

  /** A served model whose lag is wanted: its tenant and the positions it was trained through. */
  public record Model(String tenant, Map<Integer, Long> positions) {

    /** The positions a checkpoint records for {@code topic} (others are another topic's). */
    public static Model of(CheckpointPublished c, String topic) {
      Map<Integer, Long> positions = new HashMap<>();
      for (TopicPartitionOffset o : c.getOffsets()) {
        if (o.getTopic().equals(topic)) {
          positions.put(o.getPartition(), o.getOffset());
        }
      }
      return new Model(c.getTenantId(), positions);
    }
  }

  private final Consumer<String, ?> consumer;
  private final String topic;
  private final Supplier<Collection<Model>> served;
  private final LongSupplier clock;
  private final PairLag lag = new PairLag();
  private final Map<Integer, Long> from = new HashMap<>();
  private final long started;
  private List<TopicPartition> partitions = List.of();
  private volatile boolean running = true;
  private volatile boolean caughtUp;

  /**
   * @param consumer a consumer of the pairs topic, read_committed, {@code auto.offset.reset}
   *     earliest, without a group (it is assigned every partition); only keys are read
   * @param served the models whose lag is wanted, asked before every poll
   */
  public PairLagTracker(
      Consumer<String, ?> consumer,
      String topic,
      Supplier<Collection<Model>> served,
      LongSupplier clock) {
    this.consumer = consumer;
    this.topic = topic;
    this.served = served;
    this.clock = clock;
    this.started = clock.getAsLong();
  }

  /**
   * A tracker on its own consumer, from a service's Kafka client settings ({@code
   * bootstrap.servers} and any {@code kafka.*} keys).
   */
  public static PairLagTracker kafka(
      Map<String, Object> client,
      String topic,
      String clientId,
      Supplier<Collection<Model>> served) {
    Map<String, Object> c = new HashMap<>(client);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    c.remove(ConsumerConfig.GROUP_ID_CONFIG);
    Deserializer<Object> skip = (t, data) -> null; // the value is not needed
    return new PairLagTracker(
        new KafkaConsumer<>(c, new StringDeserializer(), skip),
        topic,
        served,
        System::currentTimeMillis);
  }

  /** The lag of a model trained through {@code model}'s positions, now. */
  public PairLag.Lag lag(Model model) {
    synchronized (lag) {
      return lag.lag(model.tenant(), model.positions(), clock.getAsLong());
    }
  }

  /** Whether the tracker has read every partition it follows up to its end at least once. */
  public boolean caughtUp() {
    return caughtUp;
  }

  public void stop() {
    running = false;
    consumer.wakeup();
  }

  @Override
  public void run() {
    try {
      open();
      while (running) {
        round();
      }
    } catch (WakeupException e) {
      if (running) {
        throw e;
      }
    } catch (RuntimeException e) {
      LOG.error("Serving-lag tracker stopped", e);
    } finally {
      consumer.close(Duration.ofSeconds(1));
    }
  }

  /** Assigns every partition of the topic, paused until a model wants it. */
  void open() {
    partitions =
        consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
            .map(i -> new TopicPartition(i.topic(), i.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.pause(partitions);
  }

  /**
   * Reads until every followed partition is at its end (or {@code timeout} passes), for a one-off
   * reading of the lag (the CLI); whether it caught up.
   */
  public boolean catchUp(Duration timeout) {
    if (partitions.isEmpty()) {
      open();
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    do {
      round();
    } while (!caughtUp && System.nanoTime() < deadline);
    return caughtUp;
  }

  /** Closes the consumer of a tracker used with {@link #catchUp} (not run). */
  public void close() {
    consumer.close(Duration.ofSeconds(1));
  }

  /** One poll: re-positions for the models served now, then reads what was committed. */
  void round() {
    Map<Integer, Long> floors = floors(served.get(), partitions);
    for (TopicPartition tp : partitions) {
      Long floor = floors.get(tp.partition());
      Long start = from.get(tp.partition());
      if (floor == null) {
        if (start != null) { // no model wants this partition now
          from.remove(tp.partition());
          consumer.pause(List.of(tp));
          synchronized (lag) {
            lag.clear(tp.partition());
          }
        }
        continue;
      }
      if (start == null || floor < start) {
        consumer.seek(tp, floor);
        consumer.resume(List.of(tp));
        from.put(tp.partition(), floor);
        synchronized (lag) {
          lag.clear(tp.partition());
        }
      } else if (floor > start) {
        from.put(tp.partition(), floor);
        synchronized (lag) {
          lag.trim(tp.partition(), floor);
        }
      }
    }
    if (from.isEmpty()) {
      caughtUp = true;
      sleep();
      return;
    }
    Map<Integer, Boolean> atHead = new HashMap<>();
    for (TopicPartition tp : partitions) {
      OptionalLong behind = consumer.currentLag(tp);
      atHead.put(tp.partition(), behind.isPresent() && behind.getAsLong() == 0);
    }
    var records = consumer.poll(Duration.ofMillis(200));
    long now = clock.getAsLong();
    synchronized (lag) {
      for (ConsumerRecord<String, ?> r : records) {
        String key = r.key();
        int slash = key == null ? -1 : key.indexOf('/');
        if (slash <= 0) {
          continue; // not a pair's key: nothing to count it for
        }
        // The pairs topic stamps records with their append time (LogAppendTime); on a topic
        // created before that, a record seen at the head was appended within this poll, and one
        // from a backlog has only its event time, kept between this tracker's start and now.
        long time =
            r.timestampType() == TimestampType.LOG_APPEND_TIME
                ? Math.min(now, r.timestamp())
                : atHead.getOrDefault(r.partition(), false)
                    ? now
                    : Math.min(now, Math.max(started, r.timestamp()));
        lag.add(key.substring(0, slash), r.partition(), r.offset(), time);
      }
    }
    boolean all = true;
    for (TopicPartition tp : partitions) {
      if (from.containsKey(tp.partition())) {
        OptionalLong behind = consumer.currentLag(tp);
        all &= behind.isPresent() && behind.getAsLong() == 0;
      }
    }
    caughtUp = all;
  }

  /**
   * The lowest position per partition any of {@code models} is trained through (a partition a
   * model's checkpoint names not, it was trained through none of: 0); none without models.
   */
  static Map<Integer, Long> floors(Collection<Model> models, List<TopicPartition> partitions) {
    Map<Integer, Long> floors = new HashMap<>();
    for (Model m : models) {
      for (TopicPartition tp : partitions) {
        floors.merge(tp.partition(), m.positions().getOrDefault(tp.partition(), 0L), Math::min);
      }
    }
    return floors;
  }

  private void sleep() {
    try {
      Thread.sleep(200);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }
}
