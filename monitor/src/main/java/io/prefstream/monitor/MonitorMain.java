package io.prefstream.monitor;

import io.prefstream.config.KafkaConnection;
import io.prefstream.config.Settings;
import io.prefstream.http.ApiKeys;
import io.prefstream.service.ServiceException;
import io.prefstream.service.Services;

/**
 * Runs the drift monitor alone, as its own process: {@code MonitorMain [--config FILE] [key=value
 * ...]} with {@code monitor.*} and {@code kafka.*} keys (environment variables {@code
 * PREFSTREAM_MONITOR_...} too). Its Kafka Streams state lives in {@code monitor.state-dir}; a
 * restart over it resumes. {@code prefstream run monitor} and the local stack start it by {@link
 * #start}.
 */
public final class MonitorMain {

  private MonitorMain() {}

  public static void main(String[] args) {
    Services.main(
        "monitor",
        () ->
            start(Settings.fromArgs(Settings.fromEnv(System.getenv(), MonitorOptions.ALL), args)));
  }

  /**
   * Starts the monitor from fully merged settings.
   *
   * @throws ServiceException naming the bad setting or the port in use
   */
  public static MonitorServer start(Settings settings) {
    return start(settings, null);
  }

  /**
   * Starts the monitor from fully merged settings, taking {@code keys} (null: from the environment,
   * as ingest and the scorer do) for its reads.
   */
  public static MonitorServer start(Settings settings, ApiKeys keys) {
    MonitorConfig config;
    try {
      config = MonitorConfig.from(settings);
      keys = keys != null ? keys : ApiKeys.fromEnvironment(System.getenv());
    } catch (IllegalArgumentException e) {
      throw new ServiceException(e.getMessage(), e);
    }
    KafkaConnection.requireAtStart("the drift monitor", config.bootstrapServers(), config.kafka());
    try {
      return new MonitorServer(config, keys).start();
    } catch (RuntimeException e) {
      throw new ServiceException(
          "the drift monitor could not start on port " + config.port() + ": " + e.getMessage(), e);
    }
  }
}
