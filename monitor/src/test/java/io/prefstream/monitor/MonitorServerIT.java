package io.prefstream.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.prefstream.avro.Arm;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.Histogram;
import io.prefstream.avro.ScoreRecord;
import io.prefstream.config.Settings;
import io.prefstream.http.ApiKeys;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topics;
import io.prefstream.testing.KafkaFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The monitor service against a real broker: a score shift becomes an alert over HTTP. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class MonitorServerIT {

  @TempDir Path dir;

  @Test
  void aScoreShiftIsReportedAsAnAlertOverHttpAndAsMetrics() throws Exception {
    try (KafkaFixture kafka = KafkaFixture.start("monitor")) {
      Topics topics = kafka.topics();
      Instant t0 = Instant.parse("2026-11-24T00:00:00Z");
      CheckpointPublished c =
          CheckpointPublished.newBuilder()
              .setTenantId("acme")
              .setModel("reward")
              .setVersion(1)
              .setModelType("ngram-mlp")
              .setUri("file:///x")
              .setManifestSha256("0".repeat(64))
              .setFiles(List.of())
              .setReferenceHistogram(
                  new Histogram(List.of(0.0, 1.0, 2.0, 3.0), List.of(10L, 10L, 10L)))
              .setPublishedAt(t0)
              .build();
      kafka.send(topics.checkpoints(), List.of(c));
      try (MonitorServer monitor =
          new MonitorServer(
                  MonitorConfig.from(
                      Settings.of(
                          Map.of(
                              "monitor.bootstrap-servers",
                              kafka.bootstrapServers(),
                              "monitor.topic-prefix",
                              topics.prefix(),
                              "monitor.port",
                              "0",
                              "monitor.window",
                              "1m",
                              "monitor.grace",
                              "0s",
                              "monitor.state-dir",
                              dir.resolve("state").toString(),
                              "monitor.stale-after",
                              "20s"))),
                  ApiKeys.parse("acme=acme-key,other=other-key,*=ops-key", "test"))
              .start()) {
        // every score in the top reference bin: a large shift; then one in the next window
        List<ScoreRecord> shifted = new ArrayList<>();
        for (int i = 0; i <= 40; i++) {
          Instant at = i < 40 ? t0.plusSeconds(i) : t0.plusSeconds(61);
          ScoreRecord s =
              ScoreRecord.newBuilder()
                  .setTenantId("acme")
                  .setModel("reward")
                  .setVersion(1)
                  .setArm(Arm.CHAMPION)
                  .setScore(2.5)
                  .setRawScore(2.5 + i * 0.001)
                  .setPromptChars(10)
                  .setResponseChars(100 + i)
                  .setResponseTokens(20 + i)
                  .setAt(at)
                  .build();
          shifted.add(s);
        }
        kafka.send(topics.scores(), shifted);
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        JsonNode alerts;
        do {
          Thread.sleep(500);
          alerts =
              JsonForm.mapper()
                  .readTree(
                      http.send(
                              HttpRequest.newBuilder(URI.create(monitor.uri() + "/v1/alerts"))
                                  .header("Authorization", "Bearer acme-key")
                                  .build(),
                              HttpResponse.BodyHandlers.ofString())
                          .body());
        } while (alerts.get("alerts").isEmpty() && System.nanoTime() < deadline);
        JsonNode psi = null;
        for (JsonNode a : alerts.get("alerts")) {
          if (a.get("metric").asText().equals("score_psi")) {
            psi = a;
          }
        }
        assertThat(psi).as(alerts.toString()).isNotNull();
        assertThat(psi.get("level").asText()).isEqualTo("ALERT");
        assertThat(psi.get("value").asDouble()).isGreaterThan(0.25);
        assertThat(psi.get("sample_size").asLong()).isEqualTo(40);
        String metrics =
            http.send(
                    HttpRequest.newBuilder(monitor.metricsUri()).build(),
                    HttpResponse.BodyHandlers.ofString())
                .body();
        assertThat(io.prefstream.testing.Promtool.problems(metrics)).isEmpty();
        assertThat(metrics)
            .contains(
                "prefstream_drift_level{metric=\"score_psi\",model=\"reward\",tenant=\"acme\"} 2.0")
            .contains(
                "prefstream_monitor_score{arm=\"champion\",model=\"reward\",stat=\"p50\",tenant=\"acme\"} 2.5");
        // The dashboard page, its chart library from the jar, and its data.
        var page =
            http.send(
                HttpRequest.newBuilder(URI.create(monitor.uri() + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body())
            .contains("prefstream dashboard", "/webjars/chart.js/4.5.1/dist/chart.umd.min.js");
        var chartJs =
            http.send(
                HttpRequest.newBuilder(
                        URI.create(monitor.uri() + "/webjars/chart.js/4.5.1/dist/chart.umd.min.js"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(chartJs.statusCode()).isEqualTo(200);
        assertThat(chartJs.body()).contains("Chart");
        JsonNode dashboard =
            JsonForm.mapper()
                .readTree(
                    http.send(
                            HttpRequest.newBuilder(URI.create(monitor.uri() + "/v1/dashboard"))
                                .header("Authorization", "Bearer acme-key")
                                .build(),
                            HttpResponse.BodyHandlers.ofString())
                        .body());
        assertThat(dashboard.get("checkpoints")).hasSize(1);
        assertThat(dashboard.at("/checkpoints/0/version").asLong()).isEqualTo(1);
        assertThat(dashboard.get("alerts").toString()).contains("score_psi", "ALERT");
        assertThat(dashboard.get("series").isArray()).isTrue();
        JsonNode scores = dashboard.at("/scores/0");
        assertThat(scores.get("model").asText()).isEqualTo("acme/reward");
        assertThat(scores.at("/arms/champion/version").asLong()).isEqualTo(1);
        assertThat(scores.at("/arms/champion/n").asInt()).isEqualTo(41);
        assertThat(scores.at("/arms/champion/mean").asDouble()).isEqualTo(2.5);
        assertThat(dashboard.get("viewer").asText()).isEqualTo("acme");

        // Reads are scoped: another tenant's key sees none of acme's figures, names or scores;
        // an operator's key sees every tenant; no key is a 401 naming the header.
        for (String path : List.of("/v1/dashboard", "/v1/alerts", "/v1/drift")) {
          var other = get(http, monitor.uri() + path, "other-key");
          assertThat(other.statusCode()).isEqualTo(200);
          assertThat(other.body()).as(path).doesNotContain("acme", "score_psi");
          assertThat(get(http, monitor.uri() + path, "ops-key").body()).as(path).contains("acme");
          var anonymous = get(http, monitor.uri() + path, null);
          assertThat(anonymous.statusCode()).isEqualTo(401);
          assertThat(JsonForm.mapper().readTree(anonymous.body()).get("field").asText())
              .isEqualTo("Authorization");
        }
        // Liveness stays open and names no tenant; the meters are not on the API's port.
        var health = get(http, monitor.uri() + "/healthz", null);
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).doesNotContain("acme");
        assertThat(get(http, monitor.uri() + "/metrics", "ops-key").statusCode()).isEqualTo(404);
        assertThat(monitor.metricsUri().getPort()).isNotEqualTo(monitor.port());

        // What no route takes is answered as JSON naming the error, as ingest and the scorer do.
        var missing =
            http.send(
                HttpRequest.newBuilder(URI.create(monitor.uri() + "/v1/nope")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(JsonForm.mapper().readTree(missing.body()).get("error").asText())
            .isEqualTo("not_found");
        var posted =
            http.send(
                HttpRequest.newBuilder(URI.create(monitor.uri() + "/v1/alerts"))
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).isEqualTo(405);
        assertThat(JsonForm.mapper().readTree(posted.body()).get("error").asText())
            .isEqualTo("method_not_allowed");

        // No new window for monitor.stale-after: the alert leaves /v1/alerts (still in /v1/drift,
        // marked stale) and its level gauge reads NaN, so a Prometheus rule on it resolves.
        long staleBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode open;
        do {
          Thread.sleep(1000);
          open =
              JsonForm.mapper()
                  .readTree(get(http, monitor.uri() + "/v1/alerts", "acme-key").body());
        } while (!open.get("alerts").isEmpty() && System.nanoTime() < staleBy);
        assertThat(open.get("alerts")).as(open.toString()).isEmpty();
        assertThat(get(http, monitor.uri() + "/v1/drift", "acme-key").body())
            .contains("\"stale\":true");
        assertThat(
                http.send(
                        HttpRequest.newBuilder(monitor.metricsUri()).build(),
                        HttpResponse.BodyHandlers.ofString())
                    .body())
            .contains(
                "prefstream_drift_level{metric=\"score_psi\",model=\"reward\",tenant=\"acme\"} NaN");
      }
    }
  }

  private static HttpResponse<String> get(HttpClient http, String uri, String key)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri));
    if (key != null) {
      request.header("Authorization", "Bearer " + key);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
