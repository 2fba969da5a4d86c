package io.prefstream.trainer;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prefstream.config.Settings;
import io.prefstream.service.Service;
import io.prefstream.service.ServiceException;
import io.prefstream.service.Services;
import java.util.function.Consumer;

/**
 * Runs the online trainer alone, as its own process: {@code TrainerMain [--config FILE] [key=value
 * ...]} with {@code trainer.*}, {@code model.*} and {@code kafka.*} keys (environment variables
 * {@code PREFSTREAM_TRAINER_...} too). It serves {@code /metrics} and {@code /healthz} on {@code
 * trainer.port} and stops cleanly on SIGTERM with a last checkpoint. {@code prefstream run trainer}
 * starts it by {@link #start}, the same way.
 */
public final class TrainerMain {

  private TrainerMain() {}

  public static void main(String[] args) {
    Services.main(
        "trainer",
        () ->
            start(
                Settings.fromArgs(
                    Settings.fromEnv(System.getenv(), TrainerOptions.WITH_MODEL), args),
                Services::halt)); // a trainer that is not training must not look alive
  }

  /**
   * Starts the trainer and its endpoint from fully merged settings.
   *
   * @param onUnexpectedEnd called once if training ends while nobody asked it to
   * @throws ServiceException naming the bad setting or the port in use
   */
  public static Service start(Settings settings, Consumer<String> onUnexpectedEnd) {
    TrainerConfig config;
    int port;
    String host;
    try {
      config = TrainerConfig.from(settings);
      port = settings.get(TrainerOptions.PORT);
      host = settings.get(TrainerOptions.HOST);
    } catch (IllegalArgumentException e) {
      throw new ServiceException(e.getMessage(), e);
    }
    PrometheusMeterRegistry registry = io.prefstream.http.PrometheusRegistries.create();
    TrainerService trainer = TrainerService.start(config, new TrainerMetrics(registry));
    trainer.onUnexpectedEnd(onUnexpectedEnd);
    TrainerEndpoint endpoint;
    try {
      endpoint = TrainerEndpoint.start(host, port, registry, trainer);
    } catch (ServiceException e) {
      trainer.close();
      throw e;
    }
    return new Service() {
      @Override
      public String ready() {
        return "store=" + trainer.store() + " uri=" + endpoint.uri();
      }

      @Override
      public void close() {
        try (endpoint) {
          trainer.close();
        }
      }
    };
  }
}
