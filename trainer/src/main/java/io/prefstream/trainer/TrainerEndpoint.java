package io.prefstream.trainer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prefstream.http.HttpErrors;
import io.prefstream.http.HttpListener;
import io.prefstream.http.PrometheusText;
import io.prefstream.schemas.JsonForm;
import io.prefstream.service.ServiceException;
import java.net.URI;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of a trainer process: {@code GET /metrics} (its meters in Prometheus' text format)
 * and {@code GET /healthz} (200 with each tenant's version and pairs trained while it trains, 503
 * once it has stopped), for a Prometheus scrape and a Kubernetes probe. The trainer takes no
 * requests: this is all it serves.
 */
public final class TrainerEndpoint implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TrainerEndpoint.class);

  private final Javalin app;

  private final String host;

  private TrainerEndpoint(Javalin app, String host) {
    this.app = app;
    this.host = host;
  }

  /**
   * Serves {@code trainer}'s meters from {@code registry} (JVM and process meters are added) on
   * {@code host}:{@code port}, 0 for a free one.
   */
  public static TrainerEndpoint start(
      String host, int port, PrometheusMeterRegistry registry, TrainerService trainer) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    Javalin app =
        Javalin.create(
            cfg -> {
              cfg.startup.showJavalinBanner = false;
              cfg.startup.showOldJavalinVersionWarning = false;
              cfg.routes.get("/metrics", PrometheusText.handler(registry::scrape));
              cfg.routes.get(
                  "/healthz",
                  ctx -> {
                    boolean running = trainer.running();
                    ctx.status(running ? 200 : 503)
                        .contentType("application/json")
                        .result(JsonForm.mapper().writeValueAsString(health(trainer, running)));
                  });
              HttpErrors.install(cfg, "trainer", LOG);
            });
    try {
      app.start(host, port);
    } catch (RuntimeException e) {
      throw new ServiceException(
          "the trainer's metrics endpoint could not start on "
              + host
              + ":"
              + port
              + ": "
              + e.getMessage(),
          e);
    }
    return new TrainerEndpoint(app, host);
  }

  private static ObjectNode health(TrainerService trainer, boolean running) {
    ObjectNode body = JsonForm.mapper().createObjectNode();
    body.put("status", running ? "ok" : "stopped");
    body.put("checkpoints_written", trainer.checkpointsWritten());
    ObjectNode tenants = body.putObject("tenants");
    for (Map.Entry<String, OnlineTrainer.TenantStatus> e : trainer.status().entrySet()) {
      ObjectNode t = tenants.putObject(e.getKey());
      t.put("version", e.getValue().version());
      t.put("pairs_trained", e.getValue().pairsTrained());
    }
    return body;
  }

  public URI uri() {
    return HttpListener.uri("http", host, app.port());
  }

  @Override
  public void close() {
    app.stop();
  }
}
