package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.config.Settings;
import io.prefstream.schemas.Examples;
import io.prefstream.schemas.JsonForm;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * POST /v1/events on a real port in front of the embedded broker: every answer and what Kafka holds
 * after it.
 */
@Timeout(120)
class IngestServerIT {

  private static final JsonForm<FeedbackEvent> FORM = JsonForm.of(FeedbackEvent.class);

  private static IngestFixture fixture;
  private static IngestServer server;

  @BeforeAll
  static void start() throws Exception {
    fixture = IngestFixture.start();
    server =
        fixture.server(
            IngestConfig.from(
                Settings.of(Map.of("ingest.max-body-bytes", "64KiB", "ingest.max-events", "20"))));
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  private static List<FeedbackEvent> events() {
    return Examples.oneOfEachPayload(
        IngestFixture.TENANT,
        "i-" + UUID.randomUUID(),
        Instant.now().truncatedTo(ChronoUnit.MILLIS));
  }

  private static String array(List<FeedbackEvent> events) {
    ArrayNode array = JsonForm.mapper().createArrayNode();
    events.forEach(e -> array.add(FORM.toJson(e)));
    return array.toString();
  }

  @Test
  void acceptedEventIsReadBackFromKafkaAsSent() throws Exception {
    FeedbackEvent sent = events().get(0);
    HttpResponse<String> response = fixture.postJson(server, FORM.print(sent));

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = IngestFixture.json(response);
    assertThat(body.get("accepted").asInt()).isEqualTo(1);
    assertThat(body.at("/results/0/status").asText()).isEqualTo("accepted");
    assertThat(body.at("/results/0/event_id").asText()).isEqualTo(sent.getEventId());

    List<ConsumerRecord<String, FeedbackEvent>> records =
        fixture.readAll(fixture.topics().feedback()).stream()
            .filter(r -> r.value().getEventId().equals(sent.getEventId()))
            .toList();
    assertThat(records).hasSize(1);
    ConsumerRecord<String, FeedbackEvent> record = records.get(0);
    assertThat(record.key()).isEqualTo(IngestFixture.TENANT + "/" + sent.getInteractionId());
    FeedbackEvent stored = record.value();
    assertThat(stored.getReceivedAt()).isNotNull();
    assertThat(record.timestamp()).isEqualTo(stored.getReceivedAt().toEpochMilli());
    stored.setReceivedAt(null);
    assertThat(stored).isEqualTo(sent);
  }

  @Test
  void aGzipBodyIsAcceptedAndAPlainOneLabelledGzipIsRefusedNamingTheHeader() throws Exception {
    FeedbackEvent sent = FeedbackEvent.newBuilder(events().get(1)).setEventId("gz-1").build();
    byte[] json = FORM.print(sent).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
    try (var z = new java.util.zip.GZIPOutputStream(zipped)) {
      z.write(json);
    }
    java.util.function.Function<byte[], HttpResponse<String>> postGzip =
        body -> {
          try {
            return fixture.http.send(
                java.net.http.HttpRequest.newBuilder(server.uri().resolve("/v1/events"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body))
                    .header("Content-Type", "application/json")
                    .header("Content-Encoding", "gzip")
                    .header("Authorization", "Bearer " + IngestFixture.KEY)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        };

    HttpResponse<String> plain = postGzip.apply(json);
    assertThat(plain.statusCode()).as(plain.body()).isEqualTo(400);
    assertThat(IngestFixture.json(plain).get("field").asText()).isEqualTo("Content-Encoding");
    HttpResponse<String> gzip = postGzip.apply(zipped.toByteArray());
    assertThat(gzip.statusCode()).as(gzip.body()).isEqualTo(200);
    assertThat(IngestFixture.json(gzip).get("accepted").asInt()).isEqualTo(1);
    assertThat(fixture.feedback()).extracting(FeedbackEvent::getEventId).contains("gz-1");
  }

  @Test
  void mixedBatchAcceptsTheValidEventsAndDeadLettersTheRejectedOne() throws Exception {
    List<FeedbackEvent> events = events();
    ArrayNode array = (ArrayNode) JsonForm.mapper().readTree(array(events));
    ((ObjectNode) array.get(1).get("rating")).put("value", 9.5); // scale is [1, 5]

    HttpResponse<String> response = fixture.postJson(server, array.toString());

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = IngestFixture.json(response);
    assertThat(body.get("accepted").asInt()).isEqualTo(6);
    assertThat(body.get("rejected").asInt()).isEqualTo(1);
    JsonNode rejected = body.at("/results/1");
    assertThat(rejected.get("status").asText()).isEqualTo("rejected");
    assertThat(rejected.get("field").asText()).isEqualTo("rating.value");
    assertThat(rejected.get("error").asText()).isEqualTo("out_of_range");
    assertThat(rejected.get("event_id").asText()).isEqualTo(events.get(1).getEventId());

    List<String> stored =
        fixture.feedback().stream().map(FeedbackEvent::getEventId).collect(Collectors.toList());
    for (int i = 0; i < events.size(); i++) {
      if (i == 1) {
        assertThat(stored).doesNotContain(events.get(i).getEventId());
      } else {
        assertThat(stored).containsOnlyOnce(events.get(i).getEventId());
      }
    }
    String requestId = body.get("request_id").asText();
    DeadLetter letter =
        fixture.deadLetters().stream()
            .filter(d -> (requestId + "/1").equals(d.getSourceId()))
            .findFirst()
            .orElseThrow();
    assertThat(letter.getField()).isEqualTo("rating.value");
    assertThat(letter.getReason()).startsWith("out_of_range: ");
    assertThat(letter.getSource()).isEqualTo("ingest");
    assertThat(letter.getTenantId()).isEqualTo(IngestFixture.TENANT);
    JsonNode raw =
        JsonForm.mapper().readTree(StandardCharsets.UTF_8.decode(letter.getRaw()).toString());
    assertThat(raw.at("/rating/value").asDouble()).isEqualTo(9.5);
  }

  @Test
  void ndjsonLinesAreAnsweredOneByOneAndAMalformedLineIsRejectedInPlace() throws Exception {
    List<FeedbackEvent> events = events();
    String body =
        FORM.print(events.get(0))
            + "\n\n{\"event_id\": \"broken\n"
            + FORM.print(events.get(2))
            + "\r\n";

    HttpResponse<String> response =
        fixture.post(server, "application/x-ndjson", body, IngestFixture.KEY);

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode results = IngestFixture.json(response).get("results");
    assertThat(results).hasSize(3);
    assertThat(results.get(0).get("status").asText()).isEqualTo("accepted");
    assertThat(results.get(1).get("status").asText()).isEqualTo("rejected");
    assertThat(results.get(1).get("error").asText()).isEqualTo("malformed_json");
    assertThat(results.get(2).get("status").asText()).isEqualTo("accepted");
    assertThat(results.get(2).get("event_id").asText()).isEqualTo(events.get(2).getEventId());
  }

  @Test
  void repeatedEventIdIsAnsweredDuplicateAndWrittenOnce() throws Exception {
    FeedbackEvent event = events().get(3);
    String json = FORM.print(event);

    JsonNode first = IngestFixture.json(fixture.postJson(server, json));
    JsonNode again = IngestFixture.json(fixture.postJson(server, json));
    JsonNode twiceInOneBatch =
        IngestFixture.json(fixture.postJson(server, "[" + json + "," + json + "]"));

    assertThat(first.at("/results/0/status").asText()).isEqualTo("accepted");
    assertThat(again.at("/results/0/status").asText()).isEqualTo("duplicate");
    assertThat(twiceInOneBatch.get("duplicate").asInt()).isEqualTo(2);
    assertThat(fixture.feedback().stream().filter(e -> e.getEventId().equals(event.getEventId())))
        .hasSize(1);
  }

  @Test
  void sameEventIdOfAnotherTenantIsNotADuplicate() throws Exception {
    FeedbackEvent event = events().get(0);
    fixture.postJson(server, FORM.print(event));
    event.setTenantId("other");

    HttpResponse<String> response =
        fixture.post(server, "application/json", FORM.print(event), "other-key");

    assertThat(IngestFixture.json(response).at("/results/0/status").asText()).isEqualTo("accepted");
  }

  @Test
  void everyEventRejectedIs400WithResults() throws Exception {
    FeedbackEvent event = events().get(0);
    ObjectNode json = FORM.toJson(event);
    json.remove("interaction_id");

    HttpResponse<String> response = fixture.postJson(server, json.toString());

    assertThat(response.statusCode()).isEqualTo(400);
    JsonNode body = IngestFixture.json(response);
    assertThat(body.get("error").asText()).isEqualTo("invalid_events");
    assertThat(body.at("/results/0/field").asText()).isEqualTo("interaction_id");
    assertThat(body.at("/results/0/error").asText()).isEqualTo("missing");
  }

  @Test
  void unparseableBodyIs400AndItsBytesAreDeadLettered() throws Exception {
    String garbage = "{\"event_id\": \"x\", oops " + UUID.randomUUID();

    HttpResponse<String> response = fixture.postJson(server, garbage);

    assertThat(response.statusCode()).isEqualTo(400);
    JsonNode answer = IngestFixture.json(response);
    assertThat(answer.get("error").asText()).isEqualTo("malformed_json");
    // The answer's request id is the dead letter's source id: the client can find its body.
    assertThat(fixture.deadLetters())
        .anySatisfy(
            d -> {
              assertThat(d.getSourceId()).isEqualTo(answer.get("request_id").asText());
              assertThat(StandardCharsets.UTF_8.decode(d.getRaw()).toString()).isEqualTo(garbage);
              assertThat(d.getReason()).startsWith("malformed_json");
            });
  }

  @Test
  void missingOrUnknownKeyIs401() throws Exception {
    String json = FORM.print(events().get(0));

    HttpResponse<String> missing = fixture.post(server, "application/json", json, null);
    HttpResponse<String> unknown = fixture.post(server, "application/json", json, "not-a-key");

    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(IngestFixture.json(missing).get("field").asText()).isEqualTo("Authorization");
    assertThat(unknown.statusCode()).isEqualTo(401);
    assertThat(IngestFixture.json(unknown).get("reason").asText()).isEqualTo("unknown API key");
  }

  @Test
  void eventOfAnotherTenantIs403AndNothingIsWritten() throws Exception {
    List<FeedbackEvent> events = events();
    events.get(2).setTenantId("other");

    HttpResponse<String> response = fixture.postJson(server, array(events));

    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(IngestFixture.json(response).get("field").asText()).isEqualTo("tenant_id");
    assertThat(fixture.feedback().stream().map(FeedbackEvent::getEventId))
        .doesNotContain(events.get(0).getEventId());
  }

  @Test
  void bodyOverTheLimitOrTooManyEventsIs413() throws Exception {
    String big = "[" + "1,".repeat(40_000) + "1]";
    List<FeedbackEvent> many = new java.util.ArrayList<>();
    for (int i = 0; i < 4; i++) {
      many.addAll(events());
    }

    HttpResponse<String> tooBig = fixture.postJson(server, big);
    HttpResponse<String> tooMany = fixture.postJson(server, array(many.subList(0, 21)));

    assertThat(tooBig.statusCode()).isEqualTo(413);
    assertThat(IngestFixture.json(tooBig).get("error").asText()).isEqualTo("body_too_large");
    assertThat(tooMany.statusCode()).isEqualTo(413);
    assertThat(IngestFixture.json(tooMany).get("error").asText()).isEqualTo("too_many_events");
  }

  @Test
  void wrongContentTypeIs415() throws Exception {
    String json = FORM.print(events().get(0));

    HttpResponse<String> text = fixture.post(server, "text/plain", json, IngestFixture.KEY);
    HttpResponse<String> latin1 =
        fixture.post(server, "application/json; charset=ISO-8859-1", json, IngestFixture.KEY);

    assertThat(text.statusCode()).isEqualTo(415);
    assertThat(IngestFixture.json(text).get("field").asText()).isEqualTo("Content-Type");
    assertThat(latin1.statusCode()).isEqualTo(415);
  }

  @Test
  void unknownPathIsAJson404() throws Exception {
    HttpResponse<String> response = fixture.get(server, "/v2/nothing");

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(IngestFixture.json(response).get("error").asText()).isEqualTo("not_found");
  }

  @Test
  void healthMetricsAndOpenApiAreServed() throws Exception {
    fixture.postJson(server, FORM.print(events().get(0)));

    HttpResponse<String> health = fixture.get(server, "/healthz");
    HttpResponse<String> metrics = fixture.get(server.metricsUri());
    HttpResponse<String> notOnTheApi = fixture.get(server, "/metrics");
    HttpResponse<String> openApi = fixture.get(server, "/openapi.json");

    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(IngestFixture.json(health).get("status").asText()).isEqualTo("ok");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(notOnTheApi.statusCode()).isEqualTo(404);
    // Prometheus' own linter passes on the scrape (HELP on every meter, base units, suffixes).
    assertThat(io.prefstream.testing.Promtool.problems(metrics.body())).isEmpty();
    assertThat(server.metricsUri().getPort()).isNotEqualTo(server.port());
    assertThat(metrics.body())
        .contains("prefstream_ingest_events_total{reason=\"\",status=\"accepted\"}")
        .contains("prefstream_ingest_request_seconds_bucket")
        .contains("prefstream_ingest_dedup_entries");
    JsonNode doc = IngestFixture.json(openApi);
    assertThat(doc.get("openapi").asText()).startsWith("3.");
    assertThat(doc.at("/paths/~1v1~1events/post/responses").fieldNames())
        .toIterable()
        .contains("200", "400", "401", "403", "413", "415", "429", "503");
  }
}
