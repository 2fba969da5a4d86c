package io.prefstream.ingest.internal;

import io.prefstream.avro.FeedbackEvent;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.TopicFollower;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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

  private final Topic<FeedbackEvent> topic;
  private final EventIdWindow window;
  private final AtomicLong undecodable = new AtomicLong();
  private final TopicFollower<byte[], byte[]> follower;

  public DedupFollower(
      Consumer<byte[], byte[]> consumer,
      Topic<FeedbackEvent> topic,
      EventIdWindow window,
      Duration windowLength,
      Clock clock) {
    this.topic = topic;
    this.window = window;
    this.follower =
        new TopicFollower<>(
            consumer,
            List.of(topic.name()),
            // the window's start is taken when reading starts, as the window is then
            millisSince(clock, windowLength),
            this::remember);
    follower.onCaughtUp(
        () ->
            LOG.info(
                "ingest dedup: read {} records of the last {}",
                follower.recordsRead(),
                windowLength));
  }

  private static TopicFollower.Start millisSince(Clock clock, Duration windowLength) {
    return (consumer, partitions) ->
        TopicFollower.Start.since(clock.millis() - windowLength.toMillis())
            .seek(consumer, partitions);
  }

  @Override
  public void run() {
    follower.run();
    if (follower.problem() != null) {
      LOG.error("ingest dedup follower stopped: {}", follower.problem());
    }
  }

  /** Waits until the records of the window that existed at start have been read. */
  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return follower.awaitCaughtUp(timeout);
  }

  public boolean caughtUp() {
    return follower.caughtUp();
  }

  /** Why the follower stopped, or null while it runs. */
  public String problem() {
    return follower.problem();
  }

  public long recordsRead() {
    return follower.recordsRead();
  }

  public long undecodable() {
    return undecodable.get();
  }

  public void stop() {
    follower.stop();
  }

  private void remember(ConsumerRecord<byte[], byte[]> record) {
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
