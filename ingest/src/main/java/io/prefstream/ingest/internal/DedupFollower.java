package io.prefstream.ingest.internal;

import io.prefstream.avro.FeedbackEvent;
import io.prefstream.schemas.Topic;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the feedback topic from one idempotency window ago and keeps reading it, so that the {@link
 * EventIdWindow} knows the ids accepted before a restart and by other replicas. Records written by
 * ingest carry tenant and event id as headers, so they are not decoded; others are.
 */
public final class DedupFollower implements Runnable {

  public static final String TENANT_HEADER = "prefstream.tenant";
  public static final String EVENT_ID_HEADER = "prefstream.event_id";

  private static final Logger LOG = LoggerFactory.getLogger(DedupFollower.class);

  private final Consumer<byte[], byte[]> consumer;
  private final Topic<FeedbackEvent> topic;
  private final EventIdWindow window;
  private final Duration windowLength;
  private final Clock clock;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final AtomicLong recordsRead = new AtomicLong();
  private final AtomicLong undecodable = new AtomicLong();
  private volatile boolean running = true;
  private volatile String problem;

  public DedupFollower(
      Consumer<byte[], byte[]> consumer,
      Topic<FeedbackEvent> topic,
      EventIdWindow window,
      Duration windowLength,
      Clock clock) {
    this.consumer = consumer;
    this.topic = topic;
    this.window = window;
    this.windowLength = windowLength;
    this.clock = clock;
  }

  @Override
  public void run() {
    try {
      Map<TopicPartition, Long> targets = seekToWindowStart();
      while (running) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          remember(record);
        }
        if (caughtUp.getCount() > 0 && reached(targets)) {
          LOG.info("ingest dedup: read {} records of the last {}", recordsRead, windowLength);
          caughtUp.countDown();
        }
      }
    } catch (WakeupException e) {
      if (running) {
        problem = "woken unexpectedly";
      }
    } catch (RuntimeException e) {
      problem = e.toString();
      LOG.error("ingest dedup follower stopped: {}", e.toString());
    } finally {
      consumer.close(Duration.ofSeconds(1));
    }
  }

  /** Waits until the records of the window that existed at start have been read. */
  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public boolean caughtUp() {
    return caughtUp.getCount() == 0;
  }

  /** Why the follower stopped, or null while it runs. */
  public String problem() {
    return problem;
  }

  public long recordsRead() {
    return recordsRead.get();
  }

  public long undecodable() {
    return undecodable.get();
  }

  public void stop() {
    running = false;
    consumer.wakeup();
  }

  private Map<TopicPartition, Long> seekToWindowStart() {
    List<TopicPartition> partitions =
        consumer.partitionsFor(topic.name(), Duration.ofSeconds(30)).stream()
            .map(info -> new TopicPartition(info.topic(), info.partition()))
            .toList();
    if (partitions.isEmpty()) {
      throw new IllegalStateException("topic " + topic.name() + " has no partitions");
    }
    consumer.assign(partitions);
    long since = clock.millis() - windowLength.toMillis();
    Map<TopicPartition, Long> query = new HashMap<>();
    partitions.forEach(p -> query.put(p, since));
    Map<TopicPartition, OffsetAndTimestamp> starts =
        consumer.offsetsForTimes(query, Duration.ofSeconds(30));
    Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
    for (TopicPartition p : partitions) {
      OffsetAndTimestamp start = starts.get(p);
      consumer.seek(p, start == null ? ends.get(p) : start.offset());
    }
    return ends;
  }

  private boolean reached(Map<TopicPartition, Long> targets) {
    for (Map.Entry<TopicPartition, Long> target : targets.entrySet()) {
      if (consumer.position(target.getKey()) < target.getValue()) {
        return false;
      }
    }
    return true;
  }

  private void remember(ConsumerRecord<byte[], byte[]> record) {
    recordsRead.incrementAndGet();
    Header tenant = record.headers().lastHeader(TENANT_HEADER);
    Header eventId = record.headers().lastHeader(EVENT_ID_HEADER);
    if (tenant != null && eventId != null) {
      window.remember(
          new String(tenant.value(), StandardCharsets.UTF_8),
          new String(eventId.value(), StandardCharsets.UTF_8),
          record.timestamp());
      return;
    }
    try {
      FeedbackEvent event =
          topic.valueSerde().deserializer().deserialize(topic.name(), record.value());
      window.remember(event.getTenantId(), event.getEventId(), record.timestamp());
    } catch (RuntimeException e) {
      undecodable.incrementAndGet();
    }
  }
}
