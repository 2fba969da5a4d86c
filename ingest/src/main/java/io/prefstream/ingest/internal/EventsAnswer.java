package io.prefstream.ingest.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.ingest.EventResult;
import io.prefstream.ingest.EventStatus;
import io.prefstream.schemas.FieldError;
import io.prefstream.schemas.JsonForm;

/**
 * The answer to a {@code POST /v1/events}: its HTTP status, its JSON body (the request id, the
 * counts by status and each event's result) and a Retry-After in seconds when positive. 200 when
 * anything was accepted or a duplicate, 400 when every event was rejected, 503 when any write
 * failed (the client sends the request again).
 */
public record EventsAnswer(int status, ObjectNode body, long retryAfterSeconds) {

  /** The answer for these results (one per event, in request order), counted in the metrics. */
  static EventsAnswer of(
      EventResult[] results, String requestId, long retryAfterSeconds, IngestMetrics metrics) {
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
      return new EventsAnswer(503, body, retryAfterSeconds);
    }
    if (rejected == results.length) {
      body.put("error", "invalid_events");
      return new EventsAnswer(400, body, 0);
    }
    return new EventsAnswer(200, body, 0);
  }

  /**
   * The answer to a body refused as a whole and dead-lettered (not JSON, or not well-formed UTF-8):
   * 400 with {@code request_id} (the dead letter's {@code source_id}), {@code error}, {@code field}
   * and {@code reason}.
   */
  static EventsAnswer refused(String requestId, FieldError error) {
    ObjectNode body = JsonForm.mapper().createObjectNode();
    body.put("request_id", requestId);
    body.put("error", error.rule().code());
    body.put("field", error.field());
    body.put("reason", error.reason());
    return new EventsAnswer(400, body, 0);
  }

  /** One event's result as the answer lists it. */
  static ObjectNode toJson(EventResult r) {
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
}
