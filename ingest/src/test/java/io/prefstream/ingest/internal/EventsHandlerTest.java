package io.prefstream.ingest.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.http.ApiKeys;
import io.prefstream.http.RequestError;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.schemas.Examples;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topics;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/events} as a plain function: a real window and rules, and Kafka's MockProducer
 * behind the writer, so what is published (and what is not) can be read back record by record.
 */
class EventsHandlerTest {

  private static final Instant START = Instant.parse("2026-11-23T10:00:00Z");
  private static final Topics TOPICS = Topics.withPrefix("t");
  private static final JsonForm<FeedbackEvent> FORM = JsonForm.of(FeedbackEvent.class);

  private final Clock clock = Clock.fixed(START.plusSeconds(60), ZoneOffset.UTC);
  private final MockProducer<byte[], byte[]> producer =
      new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
  private final List<FeedbackEvent> events = Examples.oneOfEachPayload("demo", "i-1", START);

  private EventsHandler handler(MockProducer<byte[], byte[]> producer) {
    IngestConfig config = IngestConfig.defaults();
    return new EventsHandler(
        config,
        ApiKeys.localDefault(),
        TOPICS,
        new EventIdWindow(Duration.ofHours(1), 1000, clock),
        new FeedbackWriter(producer, config.maxInFlightBytes()),
        new KafkaHealth(null, Duration.ofSeconds(1), Duration.ofSeconds(1)), // never probed here
        () -> true,
        new IngestMetrics(new SimpleMeterRegistry()),
        clock);
  }

  private static EventsAnswer post(EventsHandler h, String contentType, String body)
      throws InterruptedException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return h.handle(
        "Bearer " + ApiKeys.DEMO_KEY, contentType, bytes.length, new ByteArrayInputStream(bytes));
  }

  private List<ProducerRecord<byte[], byte[]>> on(String topic) {
    return producer.history().stream().filter(r -> r.topic().equals(topic)).toList();
  }

  @Test
  void aValidEventIsPublishedOnceStampedWithItsIdsAsHeadersAndAgainIsADuplicate() throws Exception {
    EventsHandler h = handler(producer);
    String one = FORM.print(events.get(1));

    EventsAnswer first = post(h, EventsHandler.JSON, one);
    EventsAnswer again = post(h, EventsHandler.JSON, one);

    assertThat(first.status()).isEqualTo(200);
    assertThat(first.body().get("accepted").asInt()).isEqualTo(1);
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.body().at("/results/0/status").asText()).isEqualTo("duplicate");
    List<ProducerRecord<byte[], byte[]>> published = on(TOPICS.feedback().name());
    assertThat(published).hasSize(1);
    ProducerRecord<byte[], byte[]> record = published.get(0);
    assertThat(new String(record.headers().lastHeader(DedupFollower.EVENT_ID_HEADER).value()))
        .isEqualTo(events.get(1).getEventId());
    FeedbackEvent stored =
        TOPICS.feedback().valueSerde().deserialize(record.topic(), record.value());
    assertThat(stored.getReceivedAt()).isEqualTo(clock.instant()); // stamped by ingest's clock
    stored.setReceivedAt(null);
    assertThat(stored).isEqualTo(events.get(1));
  }

  @Test
  void anNdjsonBatchIsAnsweredEventByEventAndARejectedOneGoesToTheDeadLetters() throws Exception {
    EventsHandler h = handler(producer);
    JsonNode broken = FORM.toJson(events.get(2)).deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) broken).remove("tenant_id");
    String body = FORM.print(events.get(0)) + "\n" + broken + "\n" + FORM.print(events.get(3));

    EventsAnswer answer = post(h, EventsHandler.NDJSON, body);

    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.body().get("accepted").asInt()).isEqualTo(2);
    assertThat(answer.body().get("rejected").asInt()).isEqualTo(1);
    JsonNode rejected = answer.body().at("/results/1");
    assertThat(rejected.get("status").asText()).isEqualTo("rejected");
    assertThat(rejected.get("field").asText()).contains("tenant_id");
    assertThat(on(TOPICS.feedback().name())).hasSize(2);
    assertThat(on(TOPICS.feedbackDlq().name())).hasSize(1);
  }

  /** {@code s} in UTF-8 with its first '/' written as the overlong {@code C0 AF}. */
  private static byte[] overlongSlash(String s) {
    byte[] plain = s.getBytes(StandardCharsets.UTF_8);
    int slash = s.indexOf('/');
    byte[] out = new byte[plain.length + 1];
    System.arraycopy(plain, 0, out, 0, slash);
    out[slash] = (byte) 0xC0;
    out[slash + 1] = (byte) 0xAF;
    System.arraycopy(plain, slash + 1, out, slash + 2, plain.length - slash - 1);
    return out;
  }

  @Test
  void idsThatDifferOnlyByAnOverlongEncodingStayDistinctTheIllFormedOneRejectedByField()
      throws Exception {
    EventsHandler h = handler(producer);
    FeedbackEvent plain = FeedbackEvent.newBuilder(events.get(0)).setEventId("ev/1").build();
    FeedbackEvent other = FeedbackEvent.newBuilder(events.get(1)).setEventId("ev/1").build();
    byte[] wellFormed = (FORM.print(plain) + "\n").getBytes(StandardCharsets.UTF_8);
    byte[] illFormed = overlongSlash(FORM.print(other));
    byte[] body = new byte[wellFormed.length + illFormed.length];
    System.arraycopy(wellFormed, 0, body, 0, wellFormed.length);
    System.arraycopy(illFormed, 0, body, wellFormed.length, illFormed.length);

    EventsAnswer answer =
        h.handle(
            "Bearer " + ApiKeys.DEMO_KEY,
            EventsHandler.NDJSON,
            body.length,
            new ByteArrayInputStream(body));

    assertThat(answer.status()).isEqualTo(200);
    JsonNode rejected = answer.body().at("/results/1");
    assertThat(rejected.get("status").asText()).isEqualTo("rejected");
    assertThat(rejected.get("error").asText()).isEqualTo("invalid_utf8");
    assertThat(rejected.get("field").asText()).isEqualTo("event_id");
    // Not answered 'duplicate' of ev/1: one feedback record, and the other in the dead letters.
    assertThat(answer.body().get("duplicate").asInt()).isZero();
    assertThat(on(TOPICS.feedback().name())).hasSize(1);
    assertThat(on(TOPICS.feedbackDlq().name())).hasSize(1);

    byte[] single = overlongSlash(FORM.print(other));
    EventsAnswer refused =
        h.handle(
            "Bearer " + ApiKeys.DEMO_KEY,
            EventsHandler.JSON,
            single.length,
            new ByteArrayInputStream(single));
    assertThat(refused.status()).isEqualTo(400);
    assertThat(refused.body().get("error").asText()).isEqualTo("invalid_utf8");
    assertThat(refused.body().get("field").asText()).isEqualTo("event_id");
    // Its request id finds the dead letter that holds the refused body.
    List<ProducerRecord<byte[], byte[]>> letters = on(TOPICS.feedbackDlq().name());
    assertThat(letters).hasSize(2);
    DeadLetter letter = TOPICS.feedbackDlq().valueSerde().deserialize("", letters.get(1).value());
    assertThat(letter.getSourceId()).isEqualTo(refused.body().get("request_id").asText());
    assertThat(letter.getField()).isEqualTo("event_id");
  }

  @Test
  void anUnacknowledgedWriteIs503AndTheIdIsFreeForTheRetry() throws Exception {
    MockProducer<byte[], byte[]> failing =
        new MockProducer<>(false, null, new ByteArraySerializer(), new ByteArraySerializer());
    EventsHandler h = handler(failing);
    String one = FORM.print(events.get(4));
    Thread broker =
        new Thread(
            () -> {
              while (failing.history().isEmpty()) {
                Thread.onSpinWait();
              }
              failing.errorNext(new TimeoutException("broker gone"));
            });
    broker.start();

    EventsAnswer down = post(h, EventsHandler.JSON, one);
    broker.join(10_000);

    assertThat(down.status()).isEqualTo(503);
    assertThat(down.body().get("error").asText()).isEqualTo("kafka_unavailable");
    assertThat(down.retryAfterSeconds()).isPositive();

    EventsHandler healthy = handler(producer);
    assertThat(post(healthy, EventsHandler.JSON, one).body().get("accepted").asInt()).isEqualTo(1);
  }

  @Test
  void requestLevelRefusalsNameTheirFieldAndPublishNothing() {
    EventsHandler h = handler(producer);
    byte[] bytes = FORM.print(events.get(1)).getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(
            () -> h.handle(null, EventsHandler.JSON, bytes.length, new ByteArrayInputStream(bytes)))
        .isInstanceOfSatisfying(
            RequestError.class, e -> assertThat(e.field()).isEqualTo("Authorization"))
        .hasMessageContaining("missing header");
    assertThatThrownBy(() -> post(h, "text/plain", "{}"))
        .isInstanceOfSatisfying(
            RequestError.class,
            e -> {
              assertThat(e.status()).isEqualTo(415);
              assertThat(e.field()).isEqualTo("Content-Type");
            });
    assertThatThrownBy(
            () ->
                h.handle(
                    "Bearer " + ApiKeys.DEMO_KEY,
                    EventsHandler.JSON,
                    10L << 20,
                    new ByteArrayInputStream(bytes)))
        .isInstanceOfSatisfying(
            RequestError.class,
            e -> {
              assertThat(e.status()).isEqualTo(413);
              assertThat(e.error()).isEqualTo("body_too_large");
            });
    assertThat(producer.history()).isEmpty();
  }
}
