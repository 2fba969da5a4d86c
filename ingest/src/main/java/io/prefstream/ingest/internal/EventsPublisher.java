package io.prefstream.ingest.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.http.RequestError;
import io.prefstream.ingest.EventResult;
import io.prefstream.ingest.EventStatus;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.internal.EventsReader.Incoming;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Publishing a request's checked events: refuses the request (503) while Kafka is down and (429)
 * while the broker is behind, claims each valid event's id in the idempotency window, writes the
 * fresh ones to the feedback topic and the rejected ones to the dead-letter topic, and waits, up to
 * the acknowledgement timeout, for the broker. A write that is not acknowledged fails its event
 * (the client sends it again; its id makes that safe).
 */
final class EventsPublisher {

  private static final Duration RESERVE_WAIT = Duration.ofMillis(50);

  private final IngestConfig config;
  private final Topic<FeedbackEvent> feedback;
  private final Topic<DeadLetter> dlq;
  private final EventIdWindow window;
  private final FeedbackWriter writer;
  private final KafkaHealth health;
  private final IngestMetrics metrics;
  private final Clock clock;
  private final long retryAfter;

  /** A valid event, encoded, and what became of its write. */
  private static final class Outgoing {
    final int index;
    final FeedbackEvent event;
    final ProducerRecord<byte[], byte[]> record;
    CompletableFuture<?> write;
    boolean joined;

    Outgoing(int index, FeedbackEvent event, ProducerRecord<byte[], byte[]> record) {
      this.index = index;
      this.event = event;
      this.record = record;
    }
  }

  EventsPublisher(
      IngestConfig config,
      Topics topics,
      EventIdWindow window,
      FeedbackWriter writer,
      KafkaHealth health,
      IngestMetrics metrics,
      Clock clock) {
    this.config = config;
    this.feedback = topics.feedback();
    this.dlq = topics.feedbackDlq();
    this.window = window;
    this.writer = writer;
    this.health = health;
    this.metrics = metrics;
    this.clock = clock;
    this.retryAfter = Math.max(1, config.retryAfter().toSeconds());
  }

  /**
   * Writes the checked events and fills in the result of each valid one: accepted, duplicate (its
   * id was written before, or is being written by another request, whose outcome it shares) or
   * failed.
   */
  void publish(EventsValidator.Checked checked, String tenant, String requestId, Instant now)
      throws InterruptedException {
    EventResult[] results = checked.results();
    List<Outgoing> outgoing = new ArrayList<>(checked.valid().size());
    long bytes = 0;
    for (EventsValidator.Valid valid : checked.valid()) {
      ProducerRecord<byte[], byte[]> record = recordOf(valid.event(), now);
      bytes += record.value().length + record.key().length;
      outgoing.add(new Outgoing(valid.index(), valid.event(), record));
    }
    int reservation = outgoing.isEmpty() ? 0 : reserve(bytes);
    List<CompletableFuture<?>> writes = new ArrayList<>();
    for (Outgoing out : outgoing) {
      EventIdWindow.Claim claim = window.claim(tenant, out.event.getEventId());
      if (claim instanceof EventIdWindow.Fresh fresh) {
        CompletableFuture<RecordMetadata> write = writer.send(out.record);
        write.whenComplete(
            (meta, error) -> {
              if (error == null) {
                window.confirm(fresh.key());
              } else {
                window.release(fresh.key(), error);
                metrics.producerError(error);
              }
            });
        out.write = write;
        writes.add(write);
      } else if (claim instanceof EventIdWindow.Pending pending) {
        out.write = pending.write();
        out.joined = true;
      } else {
        results[out.index] =
            EventResult.of(out.index, out.event.getEventId(), EventStatus.DUPLICATE);
      }
    }
    int held = reservation;
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new))
        .whenComplete((ignored, error) -> writer.unreserve(held));

    List<CompletableFuture<RecordMetadata>> deadLetters =
        deadLetterEvents(checked.rejected(), results, tenant, requestId, now);

    long deadline = System.nanoTime() + config.ackTimeout().toNanos();
    for (Outgoing out : outgoing) {
      if (out.write != null) {
        results[out.index] = awaitWrite(out, deadline);
      }
    }
    for (CompletableFuture<RecordMetadata> letter : deadLetters) {
      awaitDeadLetter(letter, deadline);
    }
  }

  /** Room for {@code bytes} among the writes awaiting acknowledgement, or a refusal. */
  private int reserve(long bytes) throws InterruptedException {
    String down = health.problem();
    if (down != null) {
      throw new RequestError(503, "kafka_unavailable", null, down, retryAfter);
    }
    int reservation = writer.tryReserve(bytes, RESERVE_WAIT);
    if (reservation == 0) {
      throw new RequestError(
          429,
          "saturated",
          null,
          "the broker is not keeping up ("
              + writer.inFlightBytes()
              + " bytes await acknowledgement); retry after the given seconds",
          retryAfter);
    }
    return reservation;
  }

  private EventResult awaitWrite(Outgoing out, long deadline) throws InterruptedException {
    String id = out.event.getEventId();
    try {
      out.write.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      return EventResult.of(
          out.index, id, out.joined ? EventStatus.DUPLICATE : EventStatus.ACCEPTED);
    } catch (TimeoutException e) {
      health.suspect("no acknowledgement within " + config.ackTimeout().toMillis() + " ms");
      return new EventResult(
          out.index,
          id,
          EventStatus.FAILED,
          null,
          "ack_timeout",
          "the broker did not acknowledge within "
              + config.ackTimeout().toMillis()
              + " ms; send it again (ids make it safe)");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof org.apache.kafka.common.errors.RetriableException
          || cause instanceof org.apache.kafka.common.errors.TimeoutException) {
        health.suspect(cause.toString());
      }
      return new EventResult(
          out.index,
          id,
          EventStatus.FAILED,
          null,
          "kafka_error",
          "the broker refused the write (" + cause.getClass().getSimpleName() + "); send it again");
    }
  }

  private void awaitDeadLetter(CompletableFuture<RecordMetadata> letter, long deadline)
      throws InterruptedException {
    try {
      letter.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      metrics.deadLetter();
    } catch (TimeoutException | ExecutionException e) {
      metrics.deadLetterError();
    }
  }

  private ProducerRecord<byte[], byte[]> recordOf(FeedbackEvent event, Instant now) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(
        new RecordHeader(
            DedupFollower.TENANT_HEADER, event.getTenantId().getBytes(StandardCharsets.UTF_8)));
    headers.add(
        new RecordHeader(
            DedupFollower.EVENT_ID_HEADER, event.getEventId().getBytes(StandardCharsets.UTF_8)));
    return new ProducerRecord<>(
        feedback.name(),
        null,
        now.toEpochMilli(),
        feedback.key(event).getBytes(StandardCharsets.UTF_8),
        feedback.valueSerde().serialize(feedback.name(), event),
        headers);
  }

  private List<CompletableFuture<RecordMetadata>> deadLetterEvents(
      List<Incoming> rejected,
      EventResult[] results,
      String tenant,
      String requestId,
      Instant now) {
    List<CompletableFuture<RecordMetadata>> writes = new ArrayList<>(rejected.size());
    for (Incoming in : rejected) {
      byte[] raw = in.raw();
      if (raw == null) {
        try {
          raw = JsonForm.mapper().writeValueAsBytes(in.node());
        } catch (JsonProcessingException e) {
          raw = String.valueOf(in.node()).getBytes(StandardCharsets.UTF_8);
        }
      }
      EventResult result = results[in.index()];
      writes.add(
          deadLetter(
              raw,
              result.error() + ": " + result.reason(),
              result.field(),
              tenant,
              requestId + "/" + in.index(),
              now));
    }
    return writes;
  }

  /** Dead-letters a body refused as a whole, waiting up to the acknowledgement timeout. */
  void deadLetterBody(byte[] body, String reason, String field, String tenant, String requestId) {
    CompletableFuture<RecordMetadata> write =
        deadLetter(body, reason, field, tenant, requestId, clock.instant());
    try {
      awaitDeadLetter(write, System.nanoTime() + config.ackTimeout().toNanos());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private CompletableFuture<RecordMetadata> deadLetter(
      byte[] raw, String reason, String field, String tenant, String sourceId, Instant now) {
    int keep = Math.min(raw.length, config.dlqMaxRawBytes());
    DeadLetter letter =
        DeadLetter.newBuilder()
            .setRaw(ByteBuffer.wrap(raw, 0, keep).slice())
            .setRawSize(keep < raw.length ? raw.length : -1)
            .setReason(reason)
            .setField(field)
            .setSource("ingest")
            .setSourceId(sourceId)
            .setTenantId(tenant)
            .setTime(now)
            .build();
    return writer.send(
        new ProducerRecord<>(
            dlq.name(),
            null,
            now.toEpochMilli(),
            dlq.key(letter).getBytes(StandardCharsets.UTF_8),
            dlq.valueSerde().serialize(dlq.name(), letter)));
  }
}
