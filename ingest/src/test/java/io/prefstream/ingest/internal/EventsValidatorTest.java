package io.prefstream.ingest.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.http.RequestError;
import io.prefstream.ingest.EventResult;
import io.prefstream.ingest.EventStatus;
import io.prefstream.ingest.internal.EventsReader.Incoming;
import io.prefstream.schemas.EventRules;
import io.prefstream.schemas.Examples;
import io.prefstream.schemas.FieldError;
import io.prefstream.schemas.JsonForm;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Validating a request's events: the tenant, the JSON form and the rules, without Kafka. */
class EventsValidatorTest {

  private static final Instant START = Instant.parse("2026-11-23T10:00:00Z");
  private static final JsonForm<FeedbackEvent> FORM = JsonForm.of(FeedbackEvent.class);

  private final Clock clock = Clock.fixed(START.plusSeconds(60), ZoneOffset.UTC);
  private final EventsValidator validator =
      new EventsValidator(FORM, new EventRules(clock, Duration.ofMinutes(5), 100_000));
  private final List<FeedbackEvent> events = Examples.oneOfEachPayload("demo", "i-1", START);

  private List<Incoming> incoming(List<ObjectNode> nodes) {
    List<Incoming> in = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      in.add(new Incoming(i, nodes.get(i), null, null));
    }
    return in;
  }

  @Test
  void validEventsAreStampedAsReceivedAndRejectedOnesGetTheirFirstFieldAtFault() {
    ObjectNode valid = FORM.toJson(events.get(0));
    ObjectNode missing = FORM.toJson(events.get(1)).deepCopy();
    missing.remove("interaction_id");
    ObjectNode future = FORM.toJson(events.get(2)).deepCopy();
    future.put("occurred_at", START.plus(Duration.ofDays(1)).toString());
    List<Incoming> in = new ArrayList<>(incoming(List.of(valid, missing, future)));
    in.add(
        new Incoming(
            3, null, new byte[] {'{'}, new FieldError("$", FieldError.Rule.MALFORMED_JSON, "eof")));

    Instant now = clock.instant();
    EventsValidator.Checked checked = validator.check(in, now);

    assertThat(checked.valid())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.index()).isZero();
              assertThat(v.event().getReceivedAt()).isEqualTo(now);
            });
    assertThat(checked.results()[0]).as("filled in once published").isNull();
    assertThat(checked.rejected()).extracting(Incoming::index).containsExactly(1, 2, 3);
    EventResult noInteraction = checked.results()[1];
    assertThat(noInteraction.status()).isEqualTo(EventStatus.REJECTED);
    assertThat(noInteraction.eventId()).isEqualTo(events.get(1).getEventId());
    assertThat(noInteraction.field()).isEqualTo("interaction_id");
    assertThat(noInteraction.error()).isEqualTo("missing");
    assertThat(checked.results()[2].field()).isEqualTo("occurred_at");
    assertThat(checked.results()[3].error()).isEqualTo("malformed_json");
    assertThat(checked.results()[3].eventId()).isNull();
  }

  @Test
  void anEventNamingAnotherTenantRefusesTheWholeRequestNamingItsIndexes() {
    ObjectNode other = FORM.toJson(events.get(0)).deepCopy();
    other.put("tenant_id", "someone-else");
    List<Incoming> in = incoming(List.of(FORM.toJson(events.get(1)), other));

    RequestError e =
        catchThrowableOfType(RequestError.class, () -> EventsValidator.checkTenants(in, "demo"));

    assertThat(e.status()).isEqualTo(403);
    assertThat(e.field()).isEqualTo("tenant_id");
    assertThat(e.getMessage()).contains("[1]", "'demo'", "nothing was written");
    EventsValidator.checkTenants(incoming(List.of(FORM.toJson(events.get(1)))), "demo");
  }
}
