package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.config.Settings;
import io.prefstream.local.LocalKafka;
import io.prefstream.schemas.Examples;
import io.prefstream.schemas.JsonForm;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ingest under faults, against real brokers: restarts and replicas keep the idempotency promise; a
 * stopped broker is 503, a throttled one 429; the client retries through both.
 */
@Timeout(180)
class IngestFaultIT {

  private static final JsonForm<FeedbackEvent> FORM = JsonForm.of(FeedbackEvent.class);

  private static List<FeedbackEvent> events() {
    return Examples.oneOfEachPayload(
        IngestFixture.TENANT,
        "i-" + UUID.randomUUID(),
        Instant.now().truncatedTo(ChronoUnit.MILLIS));
  }

  private static String status(HttpResponse<String> response) throws Exception {
    return IngestFixture.json(response).at("/results/0/status").asText();
  }

  private static long countOf(IngestFixture fixture, String eventId) {
    return fixture.feedback().stream().filter(e -> e.getEventId().equals(eventId)).count();
  }

  @Test
  void duplicateIsRecognisedAfterAnIngestRestart() throws Exception {
    try (IngestFixture fixture = IngestFixture.start()) {
      FeedbackEvent event = events().get(0);
      IngestServer first = fixture.server();
      assertThat(status(fixture.postJson(first, FORM.print(event)))).isEqualTo("accepted");
      first.close();

      IngestServer restarted = fixture.server();

      assertThat(status(fixture.postJson(restarted, FORM.print(event)))).isEqualTo("duplicate");
      assertThat(countOf(fixture, event.getEventId())).isEqualTo(1);
    }
  }

  @Test
  void replicasShareTheWindowThroughTheFeedbackTopic() throws Exception {
    try (IngestFixture fixture = IngestFixture.start()) {
      IngestServer a = fixture.server();
      IngestServer b = fixture.server();
      FeedbackEvent event = events().get(1);
      double before = dedupEntries(b);

      assertThat(status(fixture.postJson(a, FORM.print(event)))).isEqualTo("accepted");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (dedupEntries(b) < before + 1 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }

      assertThat(status(fixture.postJson(b, FORM.print(event)))).isEqualTo("duplicate");
      assertThat(countOf(fixture, event.getEventId())).isEqualTo(1);
    }
  }

  private static double dedupEntries(IngestServer server) {
    return server.registry().get("prefstream.ingest.dedup.entries").gauge().value();
  }

  @Test
  void stoppedBrokerIs503WithRetryAfterAndHealthSaysSo() throws Exception {
    try (IngestFixture fixture = IngestFixture.start()) {
      IngestServer server =
          fixture.server(IngestConfig.from(Settings.of(Map.of("ingest.ack-timeout", "1s"))));
      fixture.kafka.close();

      HttpResponse<String> response = fixture.postJson(server, FORM.print(events().get(0)));

      assertThat(response.statusCode()).isEqualTo(503);
      assertThat(response.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(IngestFixture.json(response).get("error").asText()).isEqualTo("kafka_unavailable");
      HttpResponse<String> health = fixture.get(server, "/healthz");
      assertThat(health.statusCode()).isEqualTo(503);
      assertThat(IngestFixture.json(health).get("kafka").asText()).isNotEqualTo("ok");
    }
  }

  @Test
  void clientRetriesThrough503UntilTheBrokerIsBackAndTheEventIsStoredOnce(@TempDir Path dir)
      throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Path data = Files.createDirectories(dir.resolve("kafka"));
    IngestFixture fixture = IngestFixture.start(port, data);
    try {
      IngestServer server =
          fixture.server(IngestConfig.from(Settings.of(Map.of("ingest.ack-timeout", "1s"))));
      fixture.kafka.close();
      FeedbackEvent event = events().get(2);
      CompletableFuture<EventResult> result;
      try (FeedbackClient client =
          FeedbackClient.builder(server.uri(), IngestFixture.KEY)
              .optMaxRetries(60)
              .optBackoff(Duration.ofMillis(100), Duration.ofMillis(500))
              .build()) {
        result = client.send(event);
        Thread.sleep(2000); // let it meet the stopped broker a few times
        assertThat(result).isNotDone();
        LocalKafka restarted =
            LocalKafka.builder()
                .optPort(port)
                .optDataDir(data)
                .optTopics(fixture.topics())
                .build()
                .start();
        try {
          EventResult answer = result.get(120, TimeUnit.SECONDS);
          assertThat(answer.status().stored()).isTrue();
          assertThat(client.retries()).isPositive();
          IngestFixture reader = IngestFixture.reading(restarted);
          assertThat(
                  reader.feedback().stream().filter(e -> e.getEventId().equals(event.getEventId())))
              .hasSize(1);
        } finally {
          server.close();
          restarted.close();
        }
      }
    } finally {
      fixture.close();
    }
  }

  @Test
  void throttledBrokerSaturatesTheProducerInto429AndTheClientRetriesThrough(@TempDir Path dir)
      throws Exception {
    try (IngestFixture fixture = IngestFixture.start()) {
      IngestServer server =
          fixture.server(
              IngestConfig.from(
                  Settings.of(
                      Map.of("ingest.max-in-flight-bytes", "500", "ingest.ack-timeout", "30s"))));
      try (Admin admin =
          Admin.create(Map.of("bootstrap.servers", fixture.kafka.bootstrapServers()))) {
        ClientQuotaEntity ingest =
            new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "prefstream-ingest"));
        admin
            .alterClientQuotas(
                List.of(
                    new ClientQuotaAlteration(
                        ingest, List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 20.0)))))
            .all()
            .get(30, TimeUnit.SECONDS);
      }
      Thread.sleep(1000); // quotas reach the broker's cache asynchronously
      // The first write passes and starts the throttle (about 10 s at 20 B/s); the second waits in
      // the producer holding most of the 500-byte budget, so a third finds no room.
      assertThat(fixture.postJson(server, FORM.print(events().get(0))).statusCode()).isEqualTo(200);
      CompletableFuture<HttpResponse<String>> waiting =
          CompletableFuture.supplyAsync(() -> post(fixture, server, events().get(0)));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (inFlight(fixture, server) == 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }

      HttpResponse<String> saturated = fixture.postJson(server, FORM.print(events().get(1)));

      assertThat(saturated.statusCode())
          .as(saturated.body() + " / " + fixture.get(server, "/healthz").body())
          .isEqualTo(429);
      assertThat(saturated.headers().firstValue("Retry-After")).isPresent();
      assertThat(IngestFixture.json(saturated).get("error").asText()).isEqualTo("saturated");

      FeedbackEvent retried = events().get(3);
      try (FeedbackClient client =
          FeedbackClient.builder(server.uri(), IngestFixture.KEY)
              .optMaxRetries(100)
              .optBackoff(Duration.ofMillis(100), Duration.ofMillis(500))
              .build()) {
        EventResult answer = client.send(retried).get(120, TimeUnit.SECONDS);
        assertThat(answer.status().stored()).isTrue();
        assertThat(client.retries()).isPositive();
      }
      assertThat(waiting.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      assertThat(countOf(fixture, retried.getEventId())).isEqualTo(1);
    }
  }

  private static HttpResponse<String> post(
      IngestFixture fixture, IngestServer server, FeedbackEvent e) {
    try {
      return fixture.postJson(server, FORM.print(e));
    } catch (Exception ex) {
      throw new IllegalStateException(ex);
    }
  }

  private static long inFlight(IngestFixture fixture, IngestServer server) throws Exception {
    JsonNode health = IngestFixture.json(fixture.get(server, "/healthz"));
    return health.get("in_flight_bytes").asLong();
  }
}
