package io.prefstream.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.Exposure;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.ImplicitKind;
import io.prefstream.avro.ImplicitSignal;
import io.prefstream.avro.PairwiseChoice;
import io.prefstream.schemas.FieldError.Rule;
import java.time.Instant;
import org.apache.avro.specific.SpecificRecord;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class JsonFormTest {

  private static final String DESIGN_EXAMPLE =
      """
      {"event_id": "e-1", "tenant_id": "demo", "occurred_at": "2026-11-23T10:00:00Z",
       "interaction_id": "i-1", "session_id": "s-1", "user_id": "u-1", "app": "chat",
       "exposure": {"response_id": "r-1", "prompt": "How do I ...?", "response": "You can ...",
                    "policy": "m-7", "position": 0}}
      """;

  private final JsonForm<FeedbackEvent> events = JsonForm.of(FeedbackEvent.class);

  @Test
  void roundTripsEveryRecordInJson() {
    for (SpecificRecord record : RecordSamples.all()) {
      JsonForm<SpecificRecord> form = formOf(record);
      String json = form.print(record);
      assertThat(form.parse(json)).as(json).isEqualTo(record);
    }
  }

  @Test
  void parsesTheDesignExample() {
    FeedbackEvent event = events.parse(DESIGN_EXAMPLE);

    assertThat(event.getOccurredAt()).isEqualTo(Instant.parse("2026-11-23T10:00:00Z"));
    assertThat(event.getReceivedAt()).isNull();
    Exposure exposure = (Exposure) event.getPayload();
    assertThat(exposure.getPolicy()).isEqualTo("m-7");
    assertThat(exposure.getGeneration()).isNull();
  }

  @Test
  void printsThePayloadAsOneFieldNamedByItsTypeAndOmitsNulls() {
    FeedbackEvent event = Examples.oneOfEachPayload("demo", "i-1", RecordSamples.T0).get(3);

    var json = events.toJson(event);

    assertThat(json.has("pairwise_choice")).isTrue();
    assertThat(json.has("payload")).isFalse();
    assertThat(json.has("received_at")).isFalse();
    assertThat(json.get("occurred_at").asText()).isEqualTo("2026-11-23T10:00:03.123Z");
    assertThat(json.get("pairwise_choice").get("annotator").get("kind").asText())
        .isEqualTo("END_USER");
  }

  @Test
  void acceptsEpochMillisAndOffsetsAndFillsDefaults() {
    FeedbackEvent event =
        events.parse(
            """
            {"event_id": "e-2", "tenant_id": "demo", "occurred_at": 1795428000000,
             "received_at": "2026-11-23T11:00:00+01:00", "interaction_id": "i-1",
             "pairwise_choice": {"chosen_response_id": "r-1", "rejected_response_id": "r-2"}}
            """);

    assertThat(event.getOccurredAt()).isEqualTo(Instant.ofEpochMilli(1795428000000L));
    assertThat(event.getReceivedAt()).isEqualTo(Instant.parse("2026-11-23T10:00:00Z"));
    PairwiseChoice choice = (PairwiseChoice) event.getPayload();
    assertThat(choice.getStrength()).isEqualTo(1.0);
    assertThat(choice.getTie()).isFalse();
    assertThat(choice.getCriterion()).isEqualTo("overall");
  }

  @Test
  void neverSharesAMutableDefaultBetweenRecords() {
    String json =
        withPayload(
            "\"exposure\": {\"response_id\": \"r\", \"prompt\": \"p\", \"response\": \"x\","
                + " \"generation\": {\"temperature\": 0.5}}");
    FeedbackEvent first = events.parse(json);
    ((Exposure) first.getPayload()).getGeneration().getOther().put("mutated", "yes");

    FeedbackEvent second = events.parse(json);

    assertThat(((Exposure) second.getPayload()).getGeneration().getOther()).isEmpty();
  }

  @Test
  void acceptsEnumSymbolsInAnyCase() {
    FeedbackEvent event =
        events.parse(
            """
            {"event_id": "e", "tenant_id": "t", "occurred_at": 0, "interaction_id": "i",
             "implicit_signal": {"response_id": "r", "kind": "copy"}}
            """);
    assertThat(((ImplicitSignal) event.getPayload()).getKind()).isEqualTo(ImplicitKind.COPY);
  }

  @Test
  void rejectsEventWithoutTenant() {
    assertRejected(
        () ->
            events.parse(
                """
                {"event_id": "e", "occurred_at": 0, "interaction_id": "i",
                 "thumb": {"response_id": "r", "up": true}}
                """),
        "tenant_id",
        Rule.MISSING);
  }

  @Test
  void rejectsWrongTypeNamingTheNestedField() {
    assertRejected(
        () ->
            events.parse(
                withPayload(
                    "\"exposure\": {\"response_id\": \"r\", \"prompt\": \"p\", \"response\": \"x\", \"position\": \"first\"}")),
        "exposure.position",
        Rule.WRONG_TYPE);
    assertRejected(
        () -> events.parse(withPayload("\"thumb\": {\"response_id\": \"r\", \"up\": 1}")),
        "thumb.up",
        Rule.WRONG_TYPE);
    assertRejected(() -> events.parse("[1, 2]"), "$", Rule.WRONG_TYPE);
  }

  @Test
  void rejectsOutOfRangeValues() {
    assertRejected(
        () ->
            events.parse(
                withPayload(
                    "\"pairwise_choice\": {\"chosen_response_id\": \"a\", \"rejected_response_id\": \"b\", \"strength\": 1.5}")),
        "pairwise_choice.strength",
        Rule.OUT_OF_RANGE);
    assertRejected(
        () ->
            events.parse(
                withPayload(
                    "\"labeled_pair\": {\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\", \"annotator\": {\"id\": \"x\", \"confidence\": \"NaN\"}}")),
        "labeled_pair.annotator.confidence",
        Rule.OUT_OF_RANGE);
    assertRejected(
        () ->
            events.parse(
                withPayload(
                    "\"exposure\": {\"response_id\": \"r\", \"prompt\": \"p\", \"response\": \"x\", \"position\": 3000000000}")),
        "exposure.position",
        Rule.OUT_OF_RANGE);
  }

  @Test
  void rejectsAnUnknownPayload() {
    assertRejected(
        () -> events.parse(withPayload("\"thumbs_up\": {\"response_id\": \"r\"}")),
        "thumbs_up",
        Rule.UNKNOWN_PAYLOAD);
  }

  @Test
  void rejectsAnEventWithoutPayload() {
    assertRejected(() -> events.parse(withPayload("\"app\": \"chat\"")), "payload", Rule.MISSING);
  }

  @Test
  void rejectsTwoPayloads() {
    assertRejected(
        () ->
            events.parse(
                withPayload(
                    "\"thumb\": {\"response_id\": \"r\", \"up\": true}, \"rating\": {\"response_id\": \"r\", \"value\": 3}")),
        "thumb",
        Rule.TWO_PAYLOADS);
  }

  @Test
  void rejectsTooLongAndTooShortValues() {
    String longId = "x".repeat(257);
    assertRejected(
        () -> events.parse(DESIGN_EXAMPLE.replace("\"e-1\"", "\"" + longId + "\"")),
        "event_id",
        Rule.TOO_LONG);
    assertRejected(
        () -> events.parse(DESIGN_EXAMPLE.replace("\"e-1\"", "\"\"")), "event_id", Rule.TOO_SHORT);
    assertRejected(
        () -> events.parse(withPayload("\"ranking\": {\"response_ids\": [\"only-one\"]}")),
        "ranking.response_ids",
        Rule.TOO_SHORT);
    assertRejected(
        () -> events.parse(withPayload("\"ranking\": {\"response_ids\": [\"a\", \"\"]}")),
        "ranking.response_ids[1]",
        Rule.TOO_SHORT);
    String longText = "y".repeat(65537);
    assertRejected(
        () -> events.parse(DESIGN_EXAMPLE.replace("You can ...", longText)),
        "exposure.response",
        Rule.TOO_LONG);
  }

  @Test
  void rejectsInvalidValues() {
    assertRejected(
        () ->
            events.parse(
                withPayload("\"implicit_signal\": {\"response_id\": \"r\", \"kind\": \"LIKE\"}")),
        "implicit_signal.kind",
        Rule.INVALID_VALUE);
    assertRejected(
        () -> events.parse(DESIGN_EXAMPLE.replace("2026-11-23T10:00:00Z", "yesterday")),
        "occurred_at",
        Rule.INVALID_VALUE);
  }

  @Test
  void rejectsUnknownFields() {
    assertRejected(
        () -> events.parse(DESIGN_EXAMPLE.replace("\"app\"", "\"application\"")),
        "application",
        Rule.UNKNOWN_FIELD);
    assertRejected(
        () ->
            events.parse(
                withPayload("\"thumb\": {\"response_id\": \"r\", \"up\": true, \"down\": false}")),
        "thumb.down",
        Rule.UNKNOWN_FIELD);
  }

  @Test
  void rejectsMalformedJsonAndDuplicateKeys() {
    assertRejected(() -> events.parse("{\"event_id\": "), "$", Rule.MALFORMED_JSON);
    assertRejected(() -> events.parse(""), "$", Rule.MALFORMED_JSON);
    assertRejected(
        () ->
            events.parse(
                DESIGN_EXAMPLE.replace("\"app\": \"chat\"", "\"app\": \"a\", \"app\": \"b\"")),
        "$",
        Rule.MALFORMED_JSON);
  }

  @Test
  void reportsEveryErrorOfADocument() {
    JsonFormException e =
        catchJsonFormException(
            () ->
                events.parse(
                    "{\"tenant_id\": 5, \"occurred_at\": 0, \"interaction_id\": \"i\","
                        + " \"thumb\": {\"up\": true}}"));

    assertThat(e.errors())
        .extracting(FieldError::field)
        .containsExactly("event_id", "tenant_id", "thumb.response_id");
    assertThat(e.getMessage()).startsWith("Invalid FeedbackEvent: event_id: missing:");
  }

  @Test
  void printsNonFiniteNumbersAsStrings() {
    CheckpointPublished checkpoint = RecordSamples.checkpoint();
    JsonForm<CheckpointPublished> form = JsonForm.of(CheckpointPublished.class);

    assertThat(form.toJson(checkpoint).get("metrics").get("loss").asText()).isEqualTo("NaN");
    assertThat(form.parse(form.print(checkpoint)).getMetrics().get("loss")).isNaN();
  }

  private static String withPayload(String payload) {
    return "{\"event_id\": \"e\", \"tenant_id\": \"t\", \"occurred_at\": 0,"
        + " \"interaction_id\": \"i\", "
        + payload
        + "}";
  }

  private static void assertRejected(ThrowingCallable parse, String field, Rule rule) {
    JsonFormException e = catchJsonFormException(parse);
    assertThat(e.first().field()).as(e.getMessage()).isEqualTo(field);
    assertThat(e.first().rule()).as(e.getMessage()).isEqualTo(rule);
    assertThat(e.first().reason()).isNotBlank();
  }

  private static JsonFormException catchJsonFormException(ThrowingCallable parse) {
    Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(parse);
    assertThat(thrown).isInstanceOf(JsonFormException.class);
    return (JsonFormException) thrown;
  }

  @SuppressWarnings("unchecked")
  private static <T extends SpecificRecord> JsonForm<T> formOf(T record) {
    return JsonForm.of((Class<T>) record.getClass());
  }

  @Test
  void refusesToParseNothingAtAll() {
    assertThatThrownBy(() -> events.parse("   ")).isInstanceOf(JsonFormException.class);
  }
}
