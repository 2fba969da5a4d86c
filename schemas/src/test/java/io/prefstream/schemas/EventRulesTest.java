package io.prefstream.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.avro.FeedbackEvent;
import io.prefstream.schemas.FieldError.Rule;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventRulesTest {

  private static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
  private final EventRules rules =
      new EventRules(Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofMinutes(5), 1000);
  private final JsonForm<FeedbackEvent> form = JsonForm.of(FeedbackEvent.class);

  @Test
  void acceptsEveryExamplePayload() {
    for (FeedbackEvent event : Examples.oneOfEachPayload("demo", "i-1", NOW.minusSeconds(60))) {
      assertThat(rules.check(event)).as(event.toString()).isEmpty();
    }
  }

  @Test
  void rejectsAnEventTooFarInTheFutureButAllowsClockSkew() {
    assertThat(
            rules.check(
                event("2026-11-23T10:04:59Z", "\"thumb\": {\"response_id\": \"r\", \"up\": true}")))
        .isEmpty();
    assertSingle(
        event("2026-11-23T10:05:01Z", "\"thumb\": {\"response_id\": \"r\", \"up\": true}"),
        "occurred_at",
        Rule.OUT_OF_RANGE);
  }

  @Test
  void rejectsARatingOffItsScale() {
    assertSingle(
        event(null, "\"rating\": {\"response_id\": \"r\", \"value\": 6}"),
        "rating.value",
        Rule.OUT_OF_RANGE);
    assertThat(
            rules.check(
                event(
                    null,
                    "\"rating\": {\"response_id\": \"r\", \"value\": 0, \"scale_min\": 0,"
                        + " \"scale_max\": 10}")))
        .as("the ends of a custom scale are on it")
        .isEmpty();
    assertSingle(
        event(
            null,
            "\"rating\": {\"response_id\": \"r\", \"value\": 3, \"scale_min\": 5, \"scale_max\": 1}"),
        "rating.scale_max",
        Rule.OUT_OF_RANGE);
    assertSingle(
        event(null, "\"rating\": {\"response_id\": \"r\", \"value\": \"NaN\"}"),
        "rating.value",
        Rule.OUT_OF_RANGE);
  }

  @Test
  void rejectsARankingThatNamesAResponseTwice() {
    assertSingle(
        event(null, "\"ranking\": {\"response_ids\": [\"a\", \"b\", \"a\"]}"),
        "ranking.response_ids[2]",
        Rule.INVALID_VALUE);
  }

  @Test
  void rejectsComparisonsOfAResponseWithItself() {
    assertSingle(
        event(
            null,
            "\"pairwise_choice\": {\"chosen_response_id\": \"a\", \"rejected_response_id\": \"a\"}"),
        "pairwise_choice.rejected_response_id",
        Rule.INVALID_VALUE);
    assertSingle(
        event(
            null,
            "\"labeled_pair\": {\"prompt\": \"p\", \"chosen\": \"same\", \"rejected\": \"same\"}"),
        "labeled_pair.rejected",
        Rule.INVALID_VALUE);
  }

  @Test
  void rejectsTextsBeyondTheConfiguredBound() {
    String longText = "x".repeat(1001);
    assertSingle(
        event(
            null,
            "\"exposure\": {\"response_id\": \"r\", \"prompt\": \"p\", \"response\": \""
                + longText
                + "\"}"),
        "exposure.response",
        Rule.TOO_LONG);
  }

  @Test
  void refusesANonsensicalConfiguration() {
    assertThatThrownBy(() -> new EventRules(Clock.systemUTC(), Duration.ofSeconds(-1), 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxFutureSkew");
    assertThatThrownBy(() -> new EventRules(Clock.systemUTC(), Duration.ZERO, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxTextChars");
  }

  @Test
  void rejectsIdsOfOnlyWhiteSpaceByTheirPath() {
    FeedbackEvent blankId =
        FeedbackEvent.newBuilder(event(null, "\"thumb\": {\"response_id\": \"r\", \"up\": true}"))
            .setEventId(" \t")
            .build();
    assertSingle(blankId, "event_id", Rule.INVALID_VALUE);
    assertSingle(
        event(null, "\"thumb\": {\"response_id\": \"  \", \"up\": true}"),
        "thumb.response_id",
        Rule.INVALID_VALUE);
    assertSingle(
        event(null, "\"ranking\": {\"response_ids\": [\"a\", \" \"]}"),
        "ranking.response_ids[1]",
        Rule.INVALID_VALUE);
    assertSingle(
        event(null, "\"implicit_signal\": {\"response_id\": \"\u3000\", \"kind\": \"COPY\"}"),
        "implicit_signal.response_id",
        Rule.INVALID_VALUE);
    assertThat(rules.check(event(null, "\"thumb\": {\"response_id\": \" r \", \"up\": true}")))
        .as("white space around an id is the client's spelling of it")
        .isEmpty();
  }

  private FeedbackEvent event(String occurredAt, String payload) {
    return form.parse(
        "{\"event_id\": \"e\", \"tenant_id\": \"demo\", \"interaction_id\": \"i\", \"occurred_at\": \""
            + (occurredAt == null ? "2026-11-23T09:59:00Z" : occurredAt)
            + "\", "
            + payload
            + "}");
  }

  private void assertSingle(FeedbackEvent event, String field, Rule rule) {
    List<FieldError> errors = rules.check(event);
    assertThat(errors).hasSize(1);
    assertThat(errors.get(0).field()).isEqualTo(field);
    assertThat(errors.get(0).rule()).isEqualTo(rule);
    assertThat(errors.get(0).reason()).isNotBlank();
  }
}
