package io.prefstream.launcher;

import io.prefstream.config.Settings;
import io.prefstream.monitor.MonitorConfig;
import io.prefstream.monitor.MonitorOptions;
import io.prefstream.monitor.MonitorServer;
import io.prefstream.schemas.Topics;
import java.nio.file.Path;
import java.util.Map;

/**
 * The drift monitor in this process, as {@code up} and {@code demo} run it, with its Kafka Streams
 * state in {@code DATA_DIR/monitor-state}; {@code monitor.*} keys come from the config file and
 * {@code PREFSTREAM_MONITOR_*} variables.
 */
final class LocalMonitor {

  private LocalMonitor() {}

  static MonitorServer start(
      String bootstrap, Topics topics, Settings settings, Path dataDir, int port) {
    Settings merged =
        Settings.of(
                Map.of(MonitorOptions.STATE_DIR.key(), dataDir.resolve("monitor-state").toString()))
            .overriddenBy(settings)
            .overriddenBy(Settings.fromEnv(System.getenv(), MonitorOptions.ALL))
            .overriddenBy(
                Settings.of(
                    Map.of(
                        MonitorOptions.BOOTSTRAP_SERVERS.key(), bootstrap,
                        MonitorOptions.TOPIC_PREFIX.key(), topics.prefix(),
                        MonitorOptions.PORT.key(), Integer.toString(port))));
    MonitorConfig config;
    try {
      config = MonitorConfig.from(merged);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
    try {
      return new MonitorServer(config).start();
    } catch (RuntimeException e) {
      throw new UserError(
          "the drift monitor could not start on port " + port + ": " + e.getMessage(), e);
    }
  }
}
