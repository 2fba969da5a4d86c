package io.prefstream.scorer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prefstream.http.ApiKeys;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The scorer's handlers on a real server with nothing served yet: a registry that has not been read
 * (its consumer a MockConsumer never polled) and a MockProducer for sampled scores. What a request
 * gets wrong is answered before any model is needed; ScorerIT scores through real models.
 */
class ScorerRoutesTest {

  private static final Topics TOPICS = Topics.withPrefix("t");
  private static final String KEY = "Bearer " + ApiKeys.DEMO_KEY;

  private final MockProducer<String, byte[]> producer =
      new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
  private final HttpClient http = HttpClient.newHttpClient();
  private Javalin app;

  @BeforeEach
  void start() {
    startWith(ScorerConfig.defaults());
  }

  private void startWith(ScorerConfig config) {
    if (app != null) {
      app.stop();
    }
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Registry follower = new Registry(new MockConsumer<>("earliest"), TOPICS);
    ScorerRoutes routes =
        new ScorerRoutes(
            config,
            ApiKeys.localDefault(),
            new Serving(follower, new ModelLoader(config), meters),
            follower,
            new ScoreSampler(producer, TOPICS.scores(), 1.0, meters),
            null,
            meters,
            null);
    app =
        Javalin.create(
                cfg -> {
                  cfg.startup.showJavalinBanner = false;
                  routes.install(cfg);
                })
            .start(0);
  }

  @AfterEach
  void stop() {
    app.stop();
  }

  private HttpResponse<String> send(String method, String path, String auth, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://localhost:" + app.port() + path))
            .header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(body));
    if (auth != null) {
      b.header("Authorization", auth);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void assertError(HttpResponse<String> r, int status, String error, String field)
      throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    JsonNode body = JsonForm.mapper().readTree(r.body());
    assertThat(body.get("error").asText()).isEqualTo(error);
    if (field == null) {
      assertThat(body.has("field")).isFalse();
    } else {
      assertThat(body.get("field").asText()).isEqualTo(field);
    }
    assertThat(body.get("reason").asText()).isNotBlank();
  }

  /**
   * Fuzzed headers and bodies: never a 5xx, every answer a JSON object (issue 20's second round).
   */
  @Test
  void fuzzedHeadersAndBodiesGetNo500AndAlwaysJson() throws Exception {
    java.util.Random random = new java.util.Random(20261204L);
    String[] auths = {null, KEY, KEY, "Bearer nope", "Basic x", "Bearer", "bearer  demo-key "};
    String[] types = {"application/json", "text/plain", ";;;", "application/json; x=y", null};
    String[] bodies = {
      "{\"prompt\":\"p\",\"responses\":[\"a\",\"b\"]}",
      "{\"prompt\":\"p\",\"responses\":[]}",
      "{\"prompt\":1}",
      "[",
      "",
      "{\"prompt\":\"p\",\"responses\":[\"a\"],\"extra\":true}",
      "null"
    };
    for (int i = 0; i < 300; i++) {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create("http://localhost:" + app.port() + "/v1/score"))
              .POST(HttpRequest.BodyPublishers.ofString(bodies[random.nextInt(bodies.length)]));
      String type = types[random.nextInt(types.length)];
      if (type != null) {
        b.header("Content-Type", type);
      }
      int copies = random.nextInt(8) == 0 ? 2 : 1;
      for (int c = 0; c < copies; c++) {
        String auth = auths[random.nextInt(auths.length)];
        if (auth != null) {
          b.header("Authorization", auth);
        }
      }
      if (random.nextInt(20) == 0) {
        b.header("X-Padding", "p".repeat(1024 * (1 + random.nextInt(64))));
      }
      HttpResponse<String> r;
      try {
        r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      } catch (java.io.IOException closed) {
        continue; // a connection Jetty closes on headers it will not read: no 5xx
      }
      assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
      JsonNode answer = JsonForm.mapper().readTree(r.body());
      assertThat(answer.isObject()).isTrue();
      if (r.statusCode() >= 500) {
        // Here no registry is ever read: a good request's only 5xx is the retryable no_model.
        assertThat(r.statusCode()).as("request %d: %s", i, r.body()).isEqualTo(503);
        assertThat(answer.get("error").asText()).isEqualTo("no_model");
      }
    }
  }

  @Test
  void aTenantOverItsQuotaIs429WithRetryAfterAndTooManyAtOnceIs413() throws Exception {
    startWith(
        ScorerConfig.from(
            io.prefstream.config.Settings.of(
                java.util.Map.of(
                    "scorer.quota.tenant.demo.candidates-per-second", "2",
                    "scorer.quota.burst", "2s"))));
    String two = "{\"prompt\":\"p\",\"responses\":[\"a\",\"b\"]}";
    // 4 candidates of burst: two requests pass the quota (and find no model yet), the third not.
    assertError(send("POST", "/v1/score", KEY, two), 503, "no_model", "model");
    assertError(send("POST", "/v1/score", KEY, two), 503, "no_model", "model");
    var throttled = send("POST", "/v1/score", KEY, two);
    assertError(throttled, 429, "quota_exceeded", null);
    assertThat(throttled.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(throttled.body()).contains("tenant demo is over its quota of 2 candidates/s");
    // More responses than the burst can never pass.
    assertError(
        send(
            "POST",
            "/v1/score",
            KEY,
            "{\"prompt\":\"p\",\"responses\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}"),
        413,
        "over_quota_burst",
        "responses");
  }

  @Test
  void eachBadRequestIsNamedBeforeAnyModelIsNeeded() throws Exception {
    String good = "{\"prompt\":\"p\",\"responses\":[\"a\",\"b\"]}";

    assertError(send("POST", "/v1/score", null, good), 401, "unauthorized", "Authorization");
    assertError(
        send("POST", "/v1/score", "Bearer nope", good), 401, "unauthorized", "Authorization");
    assertError(send("POST", "/v1/score", KEY, "{"), 400, "invalid_json", null);
    assertError(
        send("POST", "/v1/rank", KEY, "{\"responses\":[\"a\"]}"), 400, "missing_field", "prompt");
    assertError(
        send("POST", "/v1/score", KEY, "{\"prompt\":\"p\",\"responses\":[]}"),
        400,
        "invalid_field",
        "responses");
    assertError(
        send("POST", "/v1/score", KEY, "{\"prompt\":\"" + "x".repeat(10 << 20) + "\"}"),
        413,
        "too_large",
        null);
    assertError(send("DELETE", "/v1/score", KEY, ""), 405, "method_not_allowed", null);
    assertError(send("GET", "/v1/scores", KEY, ""), 404, "not_found", null);
    assertThat(producer.history()).isEmpty();
  }

  @Test
  void aGoodRequestBeforeTheRegistryIsReadIs503AndHealthSaysStarting() throws Exception {
    var score = send("POST", "/v1/score", KEY, "{\"prompt\":\"p\",\"responses\":[\"a\"]}");
    var health = send("GET", "/healthz", null, "");
    var metrics = send("GET", "/metrics", null, "");

    assertError(score, 503, "no_model", "model");
    assertThat(health.statusCode()).isEqualTo(503);
    assertThat(JsonForm.mapper().readTree(health.body()).get("status").asText())
        .isEqualTo("starting");
    // The meters are on a listener of their own (MetricsEndpoint), not the tenants' API.
    assertThat(metrics.statusCode()).isEqualTo(404);
  }
}
