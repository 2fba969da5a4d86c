package io.prefstream.ingest.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.http.BearerAuth;
import io.prefstream.http.Bodies;
import io.prefstream.http.RequestError;
import io.prefstream.ingest.ApiKeys;
import io.prefstream.ingest.EventResult;
import io.prefstream.ingest.EventStatus;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.schemas.EventRules;
import io.prefstream.schemas.FieldError;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.JsonFormException;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * {@code POST /v1/events}: authenticates the key, reads one event, a JSON array or NDJSON, checks
 * each event against its JSON form, the tenant and {@link EventRules}, claims its id in the
 * idempotency window, writes the valid ones to the feedback topic and the rejected ones to the
 * dead-letter topic, and answers once the broker has acknowledged them.
 */
public final class EventsHandler {

  public static final String JSON = "application/json";
  public static final String NDJSON = "application/x-ndjson";

  private static final ObjectReader READER =
      JsonForm.mapper().reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final Duration RESERVE_WAIT = Duration.ofMillis(50);

  private final IngestConfig config;
  private final ApiKeys keys;
  private final Topic<FeedbackEvent> feedback;
  private final Topic<DeadLetter> dlq;
  private final EventRules rules;
  private final EventIdWindow window;
  private final FeedbackWriter writer;
  private final KafkaHealth health;
  private final BooleanSupplier ready;
  private final IngestMetrics metrics;
  private final Clock clock;
  private final long retryAfter;

  /** An answer: HTTP status, JSON body, and a Retry-After in seconds when positive. */
  public record Answer(int status, ObjectNode body, long retryAfterSeconds) {}

  /** One event of a request, as read: its JSON, its raw bytes, or why it could not be read. */
  private record Incoming(int index, JsonNode node, byte[] raw, FieldError unreadable) {}

  public EventsHandler(
      IngestConfig config,
      ApiKeys keys,
      Topics topics,
      EventIdWindow window,
      FeedbackWriter writer,
      KafkaHealth health,
      BooleanSupplier ready,
      IngestMetrics metrics,
      Clock clock) {
    this.config = config;
    this.keys = keys;
    this.feedback = topics.feedback();
    this.dlq = topics.feedbackDlq();
    this.rules = new EventRules(clock, config.maxFutureSkew(), config.maxTextChars());
    this.window = window;
    this.writer = writer;
    this.health = health;
    this.ready = ready;
    this.metrics = metrics;
    this.clock = clock;
    this.retryAfter = Math.max(1, config.retryAfter().toSeconds());
  }

  /**
   * Handles one request. {@code body} is read here, bounded by the configured limit; request-level
   * refusals come back as {@link RequestError}.
   */
  public Answer handle(
      String authorization, String contentType, long contentLength, InputStream body)
      throws InterruptedException {
    String tenant = authenticate(authorization);
    if (!ready.getAsBoolean()) {
      throw new RequestError(
          503, "starting", null, "ingest is reading its idempotency window", retryAfter);
    }
    boolean ndjson = mediaType(contentType);
    byte[] bytes = readBounded(contentLength, body);
    String requestId = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    List<Incoming> incoming = ndjson ? splitNdjson(bytes) : splitJson(bytes, tenant, requestId);
    if (incoming.size() > config.maxEvents()) {
      throw new RequestError(
          413,
          "too_many_events",
          "$",
          incoming.size() + " events; at most " + config.maxEvents() + " per request");
    }
    checkTenants(incoming, tenant);
    return process(incoming, tenant, requestId);
  }

  private String authenticate(String authorization) {
    return BearerAuth.tenantOf(authorization, keys::tenantOf);
  }

  /** True for NDJSON, false for JSON; anything else is 415. */
  private static boolean mediaType(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      throw new RequestError(
          415, "unsupported_media_type", "Content-Type", "missing; send " + JSON + " or " + NDJSON);
    }
    String[] parts = contentType.split(";");
    String type = parts[0].strip().toLowerCase(Locale.ROOT);
    for (int i = 1; i < parts.length; i++) {
      String param = parts[i].strip().toLowerCase(Locale.ROOT);
      if (param.startsWith("charset=") && !param.substring(8).replace("\"", "").equals("utf-8")) {
        throw new RequestError(
            415, "unsupported_media_type", "Content-Type", "only charset=utf-8 is accepted");
      }
    }
    return switch (type) {
      case JSON -> false;
      case NDJSON, "application/jsonl", "application/ndjson" -> true;
      default ->
          throw new RequestError(
              415,
              "unsupported_media_type",
              "Content-Type",
              "'" + type + "' is not accepted; send " + JSON + " or " + NDJSON);
    };
  }

  private byte[] readBounded(long contentLength, InputStream body) {
    return Bodies.readBounded(
        body,
        contentLength,
        config.maxBodyBytes(),
        this::tooLarge,
        e -> new RequestError(400, "unreadable_body", "$", "the body could not be read: " + e));
  }

  private RequestError tooLarge(long size) {
    return new RequestError(
        413,
        "body_too_large",
        "$",
        (size >= 0 ? size + " bytes" : "the body")
            + " exceeds the limit of "
            + config.maxBodyBytes()
            + " bytes; split the batch");
  }

  private List<Incoming> splitJson(byte[] body, String tenant, String requestId) {
    JsonNode root;
    try {
      root = READER.readTree(body);
    } catch (IOException e) {
      String reason =
          e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.toString();
      deadLetterBody(body, "malformed_json: " + reason, tenant, requestId);
      throw new RequestError(400, "malformed_json", "$", reason);
    }
    if (root == null || root.isMissingNode()) {
      throw new RequestError(400, "malformed_json", "$", "empty body");
    }
    if (root.isObject()) {
      return List.of(new Incoming(0, root, body, null));
    }
    if (!root.isArray()) {
      throw new RequestError(
          400, "wrong_type", "$", "expected an event object or an array of them");
    }
    if (root.isEmpty()) {
      throw new RequestError(400, "too_short", "$", "the array holds no events");
    }
    List<Incoming> events = new ArrayList<>(root.size());
    ArrayNode array = (ArrayNode) root;
    for (int i = 0; i < array.size(); i++) {
      events.add(new Incoming(i, array.get(i), null, null));
    }
    return events;
  }

  private List<Incoming> splitNdjson(byte[] body) {
    List<Incoming> events = new ArrayList<>();
    int start = 0;
    while (start < body.length) {
      int end = start;
      while (end < body.length && body[end] != '\n') {
        end++;
      }
      byte[] line =
          Arrays.copyOfRange(body, start, end > start && body[end - 1] == '\r' ? end - 1 : end);
      start = end + 1;
      if (isBlank(line)) {
        continue;
      }
      int index = events.size();
      if (index > config.maxEvents()) {
        break; // enough to answer 413
      }
      try {
        events.add(new Incoming(index, READER.readTree(line), line, null));
      } catch (IOException e) {
        String reason =
            e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.toString();
        events.add(
            new Incoming(
                index, null, line, new FieldError("$", FieldError.Rule.MALFORMED_JSON, reason)));
      }
    }
    if (events.isEmpty()) {
      throw new RequestError(400, "too_short", "$", "the body holds no events");
    }
    return events;
  }

  private static boolean isBlank(byte[] line) {
    for (byte b : line) {
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }

  /** An event naming another tenant than the key's refuses the whole request: 403. */
  private static void checkTenants(List<Incoming> incoming, String tenant) {
    List<Integer> foreign = new ArrayList<>();
    for (Incoming in : incoming) {
      JsonNode named = in.node == null ? null : in.node.get("tenant_id");
      if (named != null && named.isTextual() && !named.asText().equals(tenant)) {
        foreign.add(in.index);
      }
    }
    if (!foreign.isEmpty()) {
      String which = foreign.size() > 5 ? foreign.subList(0, 5) + "..." : foreign.toString();
      throw new RequestError(
          403,
          "forbidden_tenant",
          "tenant_id",
          "event(s) "
              + which
              + " name another tenant than the API key's ('"
              + tenant
              + "'); nothing was written");
    }
  }

  /** A valid event, encoded, and what became of it. */
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

  private Answer process(List<Incoming> incoming, String tenant, String requestId)
      throws InterruptedException {
    Instant now = clock.instant();
    EventResult[] results = new EventResult[incoming.size()];
    List<Outgoing> outgoing = new ArrayList<>(incoming.size());
    List<Incoming> rejected = new ArrayList<>();
    long bytes = 0;
    for (Incoming in : incoming) {
      FieldError error = in.unreadable;
      FeedbackEvent event = null;
      if (error == null) {
        try {
          event = feedback.jsonForm().parse(in.node);
          List<FieldError> broken = rules.check(event);
          error = broken.isEmpty() ? null : broken.get(0);
        } catch (JsonFormException e) {
          error = e.first();
        }
      }
      if (error != null) {
        results[in.index] =
            new EventResult(
                in.index,
                eventIdOf(in.node),
                EventStatus.REJECTED,
                error.field(),
                error.rule().code(),
                error.reason());
        rejected.add(in);
        continue;
      }
      event.setReceivedAt(now);
      ProducerRecord<byte[], byte[]> record = recordOf(event, now);
      bytes += record.value().length + record.key().length;
      outgoing.add(new Outgoing(in.index, event, record));
    }

    int reservation = 0;
    if (!outgoing.isEmpty()) {
      String down = health.problem();
      if (down != null) {
        throw new RequestError(503, "kafka_unavailable", null, down, retryAfter);
      }
      reservation = writer.tryReserve(bytes, RESERVE_WAIT);
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
    }
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
        deadLetterEvents(rejected, results, tenant, requestId, now);

    long deadline = System.nanoTime() + config.ackTimeout().toNanos();
    for (Outgoing out : outgoing) {
      if (out.write != null) {
        results[out.index] = awaitWrite(out, deadline);
      }
    }
    for (CompletableFuture<RecordMetadata> letter : deadLetters) {
      awaitDeadLetter(letter, deadline);
    }
    return answer(results, requestId);
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

  private Answer answer(EventResult[] results, String requestId) {
    int accepted = 0;
    int duplicate = 0;
    int rejected = 0;
    int failed = 0;
    ObjectNode body = JsonForm.mapper().createObjectNode();
    body.put("request_id", requestId);
    ArrayNode list = JsonForm.mapper().createArrayNode();
    for (EventResult r : results) {
      switch (r.status()) {
        case ACCEPTED -> accepted++;
        case DUPLICATE -> duplicate++;
        case REJECTED -> rejected++;
        case FAILED -> failed++;
      }
      if (r.status() == EventStatus.REJECTED) {
        metrics.rejected(r.error());
      } else {
        metrics.event(r.status());
      }
      list.add(toJson(r));
    }
    body.put("accepted", accepted);
    body.put("duplicate", duplicate);
    body.put("rejected", rejected);
    body.put("failed", failed);
    body.set("results", list);
    if (failed > 0) {
      body.put("error", "kafka_unavailable");
      return new Answer(503, body, retryAfter);
    }
    if (rejected == results.length) {
      body.put("error", "invalid_events");
      return new Answer(400, body, 0);
    }
    return new Answer(200, body, 0);
  }

  public static ObjectNode toJson(EventResult r) {
    ObjectNode node = JsonForm.mapper().createObjectNode();
    node.put("index", r.index());
    if (r.eventId() != null) {
      node.put("event_id", r.eventId());
    }
    node.put("status", r.status().code());
    if (r.field() != null) {
      node.put("field", r.field());
    }
    if (r.error() != null) {
      node.put("error", r.error());
    }
    if (r.reason() != null) {
      node.put("reason", r.reason());
    }
    return node;
  }

  private static String eventIdOf(JsonNode node) {
    JsonNode id = node == null ? null : node.get("event_id");
    return id != null && id.isTextual() ? id.asText() : null;
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
      byte[] raw = in.raw;
      if (raw == null) {
        try {
          raw = JsonForm.mapper().writeValueAsBytes(in.node);
        } catch (JsonProcessingException e) {
          raw = String.valueOf(in.node).getBytes(StandardCharsets.UTF_8);
        }
      }
      EventResult result = results[in.index];
      writes.add(
          deadLetter(
              raw,
              result.error() + ": " + result.reason(),
              result.field(),
              tenant,
              requestId + "/" + in.index,
              now));
    }
    return writes;
  }

  private void deadLetterBody(byte[] body, String reason, String tenant, String requestId) {
    CompletableFuture<RecordMetadata> write =
        deadLetter(body, reason, "$", tenant, requestId, clock.instant());
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
