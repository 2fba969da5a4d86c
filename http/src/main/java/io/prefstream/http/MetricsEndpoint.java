package io.prefstream.http;

import io.javalin.Javalin;
import java.net.URI;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A service's {@code GET /metrics} on a listener of its own ({@link HttpListener#metricsHost()},
 * {@link HttpListener#metricsPort()}), plain HTTP and without keys: for the operator's Prometheus,
 * not for tenants, whose API port does not serve it.
 */
public final class MetricsEndpoint implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);

  private final Javalin app;
  private final String host;

  private MetricsEndpoint(Javalin app, String host) {
    this.app = app;
    this.host = host;
  }

  /**
   * Serves {@code scrape} (Prometheus' text format) on the listener's metrics address.
   *
   * @throws IllegalStateException naming the service and the address when it cannot bind
   */
  public static MetricsEndpoint start(
      String service, HttpListener listener, Supplier<String> scrape) {
    Javalin app =
        Javalin.create(
            cfg -> {
              cfg.startup.showJavalinBanner = false;
              cfg.startup.showOldJavalinVersionWarning = false;
              cfg.routes.get("/metrics", PrometheusText.handler(scrape::get));
              HttpErrors.install(cfg, service + "-metrics", LOG);
            });
    try {
      app.start(listener.metricsHost(), listener.resolvedMetricsPort());
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          service
              + "'s /metrics listener could not start on "
              + listener.metricsHost()
              + ":"
              + listener.resolvedMetricsPort()
              + ": "
              + e.getMessage(),
          e);
    }
    return new MetricsEndpoint(app, listener.metricsHost());
  }

  public int port() {
    return app.port();
  }

  /** Where {@code /metrics} is: {@code http://HOST:PORT/metrics}. */
  public URI uri() {
    return HttpListener.uri("http", host, port()).resolve("/metrics");
  }

  @Override
  public void close() {
    app.stop();
  }
}
