package io.prefstream.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Reads every partition of some topics from a start to the end they had when it began ("caught
 * up"), then keeps following them: how a service rebuilds state that lives in Kafka (the scorer's
 * registries from the beginning of the compacted topics, ingest's idempotency window from one
 * window ago) and keeps it current. Run it on a thread of its own; each record goes to the {@code
 * apply} function on that thread. The consumer is assigned, never subscribed: every reader sees
 * every partition.
 */
public final class TopicFollower<K, V> implements Runnable {

  /** Where reading starts in each partition. */
  public interface Start {
    /** From each partition's first record. */
    static Start beginning() {
      return (consumer, partitions) -> consumer.seekToBeginning(partitions);
    }

    /** From the first record at or after {@code millis} (epoch), or the end where there is none. */
    static Start since(long millis) {
      return (consumer, partitions) -> {
        Map<TopicPartition, Long> query = new HashMap<>();
        partitions.forEach(p -> query.put(p, millis));
        Map<TopicPartition, OffsetAndTimestamp> starts =
            consumer.offsetsForTimes(query, Duration.ofSeconds(30));
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
        for (TopicPartition p : partitions) {
          OffsetAndTimestamp start = starts.get(p);
          consumer.seek(p, start == null ? ends.get(p) : start.offset());
        }
      };
    }

    void seek(org.apache.kafka.clients.consumer.Consumer<?, ?> consumer, List<TopicPartition> ps);
  }

  private final org.apache.kafka.clients.consumer.Consumer<K, V> consumer;
  private final List<String> topics;
  private final Start start;
  private final Consumer<ConsumerRecord<K, V>> apply;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final AtomicLong recordsRead = new AtomicLong();
  private final List<Runnable> onCaughtUp = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile boolean running = true;
  private volatile String problem;

  /**
   * @param consumer a consumer of its own, closed when following ends
   * @param apply what each record does to the follower's state; a record it cannot use is its own
   *     to skip (an exception out of it stops following, with {@link #problem})
   */
  public TopicFollower(
      org.apache.kafka.clients.consumer.Consumer<K, V> consumer,
      List<String> topics,
      Start start,
      Consumer<ConsumerRecord<K, V>> apply) {
    this.consumer = consumer;
    this.topics = List.copyOf(topics);
    this.start = start;
    this.apply = apply;
  }

  /** Runs {@code action} on the follower's thread once it has caught up. */
  public TopicFollower<K, V> onCaughtUp(Runnable action) {
    onCaughtUp.add(action);
    return this;
  }

  @Override
  public void run() {
    try {
      List<TopicPartition> partitions = partitions();
      consumer.assign(partitions);
      start.seek(consumer, partitions);
      Map<TopicPartition, Long> ends =
          new HashMap<>(consumer.endOffsets(partitions, Duration.ofSeconds(30)));
      while (running) {
        for (ConsumerRecord<K, V> record : consumer.poll(Duration.ofMillis(200))) {
          recordsRead.incrementAndGet();
          apply.accept(record);
        }
        if (caughtUp.getCount() > 0) {
          ends.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
          if (ends.isEmpty()) {
            caughtUp.countDown();
            onCaughtUp.forEach(Runnable::run);
          }
        }
      }
    } catch (WakeupException e) {
      if (running) {
        problem = "woken unexpectedly";
      }
    } catch (RuntimeException e) {
      problem = e.toString();
    } finally {
      consumer.close(Duration.ofSeconds(1));
    }
  }

  private List<TopicPartition> partitions() {
    List<TopicPartition> partitions = new ArrayList<>();
    for (String topic : topics) {
      var infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
      if (infos == null || infos.isEmpty()) {
        throw new IllegalStateException("topic " + topic + " has no partitions");
      }
      infos.forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
    }
    return partitions;
  }

  /** Waits until the records that existed at start have been read. */
  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public boolean caughtUp() {
    return caughtUp.getCount() == 0;
  }

  /** Why following stopped while nobody asked it to, or null. */
  public String problem() {
    return problem;
  }

  public long recordsRead() {
    return recordsRead.get();
  }

  /** Stops following (from any thread); the consumer is closed on the follower's thread. */
  public void stop() {
    running = false;
    consumer.wakeup();
  }
}
