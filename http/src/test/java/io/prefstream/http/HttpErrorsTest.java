package io.prefstream.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.Javalin;
import io.prefstream.schemas.JsonForm;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The answers on a real Javalin server, read by a real HTTP client. */
class HttpErrorsTest {

  private Javalin app;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() {
    app =
        Javalin.create(
                cfg -> {
                  cfg.startup.showJavalinBanner = false;
                  cfg.routes.get("/ok", ctx -> ctx.result("ok"));
                  cfg.routes.get("/metrics", PrometheusText.handler(() -> "up 1\n"));
                  cfg.routes.get(
                      "/whoami",
                      ctx -> {
                        try {
                          ctx.result(
                              BearerAuth.tenantOf(
                                  BearerAuth.header(ctx),
                                  k -> java.util.Optional.of("tenant-of-" + k)));
                        } catch (RequestError e) {
                          HttpErrors.answer(ctx, e);
                        }
                      });
                  cfg.routes.get(
                      "/busy",
                      ctx ->
                          HttpErrors.answer(
                              ctx, new RequestError(429, "overloaded", null, "retry shortly", 2)));
                  cfg.routes.get(
                      "/model",
                      ctx ->
                          HttpErrors.answer(
                              ctx, new RequestError(404, "no_model", "model", "none promoted")));
                  cfg.routes.get(
                      "/boom",
                      ctx -> {
                        throw new IllegalStateException("a bug");
                      });
                  HttpErrors.install(cfg, "test", LoggerFactory.getLogger(HttpErrorsTest.class));
                })
            .start(0);
  }

  @AfterEach
  void stop() {
    app.stop();
  }

  private HttpResponse<String> send(String method, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + app.port() + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    return JsonForm.mapper().readTree(r.body());
  }

  @Test
  void anErrorIsJsonNamingTheFieldWithRetryAfterWhenItHasOne() throws Exception {
    var busy = send("GET", "/busy");

    assertThat(busy.statusCode()).isEqualTo(429);
    assertThat(busy.headers().firstValue("Retry-After")).hasValue("2");
    assertThat(json(busy).toString())
        .isEqualTo("{\"error\":\"overloaded\",\"reason\":\"retry shortly\"}");
  }

  @Test
  void aHandlersOwn404IsKeptAndAnUnknownPathGetsNotFound() throws Exception {
    var model = send("GET", "/model");
    var nowhere = send("GET", "/nowhere");

    assertThat(model.statusCode()).isEqualTo(404);
    assertThat(json(model).toString())
        .isEqualTo("{\"error\":\"no_model\",\"field\":\"model\",\"reason\":\"none promoted\"}");
    assertThat(nowhere.statusCode()).isEqualTo(404);
    assertThat(json(nowhere).get("reason").asText()).isEqualTo("no such path: /nowhere");
  }

  @Test
  void aMethodAPathDoesNotTakeIs405AndABugIsA500ThatPointsAtTheLog() throws Exception {
    var post = send("POST", "/ok");
    var boom = send("GET", "/boom");

    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(json(post).get("error").asText()).isEqualTo("method_not_allowed");
    assertThat(json(post).get("reason").asText()).isEqualTo("POST is not allowed on /ok");
    assertThat(boom.statusCode()).isEqualTo(500);
    assertThat(json(boom).get("reason").asText()).isEqualTo("unexpected error; see the test log");
    assertThat(boom.body()).doesNotContain("a bug");
  }

  @Test
  void metricsAreServedAsPrometheusText() throws Exception {
    HttpResponse<String> r = send("GET", "/metrics");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue(PrometheusText.CONTENT_TYPE);
    assertThat(r.body()).isEqualTo("up 1\n");
  }

  @Test
  void oneAuthorizationHeaderIsReadAndTwoAreRefused() throws Exception {
    URI uri = URI.create("http://localhost:" + app.port() + "/whoami");
    HttpResponse<String> one =
        http.send(
            HttpRequest.newBuilder(uri).header("Authorization", "Bearer a").build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(one.body()).isEqualTo("tenant-of-a");

    HttpResponse<String> two =
        http.send(
            HttpRequest.newBuilder(uri)
                .header("Authorization", "Bearer a")
                .header("Authorization", "Bearer b")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(two.statusCode()).isEqualTo(401);
    JsonNode body = JsonForm.mapper().readTree(two.body());
    assertThat(body.get("field").asText()).isEqualTo("Authorization");
    assertThat(body.get("reason").asText()).contains("2 Authorization headers");
  }

  /** Sends {@code request} as raw bytes and returns the whole answer as text. */
  private String raw(String request) throws Exception {
    try (java.net.Socket socket = new java.net.Socket("localhost", app.port())) {
      socket
          .getOutputStream()
          .write(request.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      socket.setSoTimeout(10_000);
      return new String(
          socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void whatJettyRefusesBeforeAnyRouteIsAnsweredAsJsonNotHtml() throws Exception {
    String hugeHeader =
        raw("GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(64 * 1024) + "\r\n\r\n");
    assertThat(hugeHeader).startsWith("HTTP/1.1 431");
    assertThat(hugeHeader).containsIgnoringCase("Content-Type: application/json");
    assertThat(hugeHeader).contains("\"error\":\"headers_too_large\"").doesNotContain("<html");

    String badRequest = raw("GET /ok HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
    assertThat(badRequest).startsWith("HTTP/1.1 400");
    assertThat(badRequest).contains("\"error\":\"bad_request\"").doesNotContain("<html");
  }
}
