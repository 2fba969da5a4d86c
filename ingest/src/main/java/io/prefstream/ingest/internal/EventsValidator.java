package io.prefstream.ingest.internal;

import io.prefstream.avro.FeedbackEvent;
import io.prefstream.http.RequestError;
import io.prefstream.ingest.EventResult;
import io.prefstream.ingest.EventStatus;
import io.prefstream.ingest.internal.EventsReader.Incoming;
import io.prefstream.schemas.EventRules;
import io.prefstream.schemas.FieldError;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.JsonFormException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Validating a request's events: none may name another tenant than the API key's (403 for the whole
 * request), and each is checked against its JSON form and {@link EventRules}. A valid event is
 * stamped with the time it was received; a rejected one gets its result (the first field at fault
 * and why) and is kept for the dead letters. It writes nothing.
 */
final class EventsValidator {

  /** A valid event at its index in the request. */
  record Valid(int index, FeedbackEvent event) {}

  /**
   * A request's events, checked: a result for each rejected one (the others still null), the valid
   * events and the rejected ones in request order.
   */
  record Checked(EventResult[] results, List<Valid> valid, List<Incoming> rejected) {}

  private final JsonForm<FeedbackEvent> form;
  private final EventRules rules;

  EventsValidator(JsonForm<FeedbackEvent> form, EventRules rules) {
    this.form = form;
    this.rules = rules;
  }

  /** An event naming another tenant than the key's refuses the whole request: 403. */
  static void checkTenants(List<Incoming> incoming, String tenant) {
    List<Integer> foreign = new ArrayList<>();
    for (Incoming in : incoming) {
      var named = in.node() == null ? null : in.node().get("tenant_id");
      if (named != null && named.isTextual() && !named.asText().equals(tenant)) {
        foreign.add(in.index());
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

  /** Checks each event; valid ones are stamped as received at {@code now}. */
  Checked check(List<Incoming> incoming, Instant now) {
    EventResult[] results = new EventResult[incoming.size()];
    List<Valid> valid = new ArrayList<>(incoming.size());
    List<Incoming> rejected = new ArrayList<>();
    for (Incoming in : incoming) {
      FieldError error = in.unreadable();
      FeedbackEvent event = null;
      if (error == null) {
        try {
          event = form.parse(in.node());
          List<FieldError> broken = rules.check(event);
          error = broken.isEmpty() ? null : broken.get(0);
        } catch (JsonFormException e) {
          error = e.first();
        }
      }
      if (error != null) {
        results[in.index()] =
            new EventResult(
                in.index(),
                in.eventId(),
                EventStatus.REJECTED,
                error.field(),
                error.rule().code(),
                error.reason());
        rejected.add(in);
        continue;
      }
      event.setReceivedAt(now);
      valid.add(new Valid(in.index(), event));
    }
    return new Checked(results, valid, rejected);
  }
}
