package io.prefstream.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.javalin.Javalin;
import io.prefstream.config.Settings;
import io.prefstream.testing.TestCertificates;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpListenerTest {

  private static final ListenerOptions OPTIONS = new ListenerOptions("svc", 8080);

  @TempDir Path dir;

  private static HttpListener read(Map<String, String> keys) {
    return OPTIONS.read(Settings.of(keys));
  }

  @Test
  void theMetersListenBesideTheApiUnlessTold() {
    HttpListener defaults = read(Map.of());
    assertThat(defaults.host()).isEqualTo("0.0.0.0");
    assertThat(defaults.resolvedMetricsPort()).isEqualTo(9080);
    assertThat(defaults.metricsHost()).isEqualTo("0.0.0.0");
    assertThat(defaults.tls()).isNull();

    assertThat(read(Map.of("svc.port", "0")).resolvedMetricsPort()).isZero();
    HttpListener told =
        read(
            Map.of(
                "svc.host", "127.0.0.1",
                "svc.metrics.host", "10.0.0.7",
                "svc.metrics.port", "9464"));
    assertThat(told.metricsHost()).isEqualTo("10.0.0.7");
    assertThat(told.resolvedMetricsPort()).isEqualTo(9464);
    assertThat(read(Map.of("svc.host", "127.0.0.1")).metricsHost()).isEqualTo("127.0.0.1");
  }

  @Test
  void aClashingOrImpossibleMetricsPortIsRefusedNamingTheKey() {
    assertThatThrownBy(() -> read(Map.of("svc.port", "9000", "svc.metrics.port", "9000")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("svc.metrics.port: ")
        .hasMessageContaining("must differ");
    assertThatThrownBy(() -> read(Map.of("svc.port", "65000")))
        .hasMessageStartingWith("svc.metrics.port: ")
        .hasMessageContaining("beyond 65535");
  }

  @Test
  void aKeystoreMakesTheApiHttpsOnlyAndTheMetersStayApart() throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    HttpListener listener =
        read(
            Map.of(
                "svc.host",
                "127.0.0.1",
                "svc.port",
                "0",
                "svc.tls.keystore",
                certs.keystore().toString(),
                "svc.tls.keystore-password",
                TestCertificates.PASSWORD));
    Javalin app =
        Javalin.create(
            cfg -> {
              cfg.startup.showJavalinBanner = false;
              listener.configure(cfg);
              cfg.routes.get("/hello", ctx -> ctx.result("over " + ctx.scheme()));
            });
    listener.start(app);
    try (MetricsEndpoint metrics = MetricsEndpoint.start("svc", listener, () -> "up 1\n")) {
      URI api = listener.uri(app.port());
      assertThat(api.getScheme()).isEqualTo("https");
      HttpClient trusting = HttpClient.newBuilder().sslContext(certs.clientContext()).build();
      HttpResponse<String> hello =
          trusting.send(
              HttpRequest.newBuilder(api.resolve("/hello")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(hello.statusCode()).isEqualTo(200);
      assertThat(hello.body()).isEqualTo("over https");

      // Plain HTTP on the API's port gets no answer; a client that does not trust the
      // certificate is refused by its own TLS check.
      URI plain = URI.create("http://localhost:" + app.port() + "/hello");
      assertThatThrownBy(
              () ->
                  HttpClient.newHttpClient()
                      .send(
                          HttpRequest.newBuilder(plain).build(),
                          HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(IOException.class);
      assertThatThrownBy(
              () ->
                  HttpClient.newHttpClient()
                      .send(
                          HttpRequest.newBuilder(api.resolve("/hello")).build(),
                          HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(IOException.class);

      // The meters: their own plain port, not the API's.
      assertThat(metrics.port()).isNotEqualTo(app.port());
      HttpResponse<String> scraped =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(metrics.uri()).build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(scraped.body()).isEqualTo("up 1\n");
      assertThat(
              trusting
                  .send(
                      HttpRequest.newBuilder(api.resolve("/metrics")).build(),
                      HttpResponse.BodyHandlers.ofString())
                  .statusCode())
          .isEqualTo(404);
    } finally {
      app.stop();
    }
  }

  @Test
  void aKeystoreThatCannotBeOpenedFailsAtStartSayingWhy() throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    HttpListener wrongPassword =
        read(
            Map.of(
                "svc.port", "0",
                "svc.tls.keystore", certs.keystore().toString(),
                "svc.tls.keystore-password", "nope"));
    assertThatThrownBy(() -> Javalin.create(wrongPassword::configure))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TLS keystore " + certs.keystore())
        .hasMessageContaining("wrong password or type?")
        .hasMessageNotContaining("nope");
    HttpListener missing =
        read(Map.of("svc.port", "0", "svc.tls.keystore", dir.resolve("none.p12").toString()));
    assertThatThrownBy(() -> Javalin.create(missing::configure))
        .hasMessageContaining("none.p12 cannot be read");
    HttpListener certificateOnly =
        read(
            Map.of(
                "svc.port",
                "0",
                "svc.tls.keystore",
                certs.truststore().toString(),
                "svc.tls.keystore-password",
                TestCertificates.PASSWORD));
    assertThatThrownBy(() -> Javalin.create(certificateOnly::configure))
        .hasMessageContaining("holds no private key");
  }
}
