package io.prefstream.monitor;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.config.Settings;
import io.prefstream.schemas.Topics;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.TopologyTestDriver;

/**
 * The monitor's topology in a test driver, built and configured as the server does ({@link
 * MonitorTopology#buildTopology}, {@link MonitorTopology#streamsConfig}), with one-minute windows
 * and no grace, so a window closes as soon as a record of the next arrives.
 */
final class TestTopology {

  private TestTopology() {}

  static MonitorConfig config(Topics topics, Path stateDir) {
    return MonitorConfig.from(
        Settings.of(
            Map.of(
                "monitor.topic-prefix", topics.prefix(),
                "monitor.bootstrap-servers", "unused:9092",
                "monitor.state-dir", stateDir.toString(),
                "monitor.window", "1m",
                "monitor.grace", "0s")));
  }

  static TopologyTestDriver driver(Topics topics, Path stateDir) {
    return driver(topics, stateDir, new SimpleMeterRegistry());
  }

  /** As above, counting into {@code meters}. */
  static TopologyTestDriver driver(
      Topics topics, Path stateDir, io.micrometer.core.instrument.MeterRegistry meters) {
    MonitorConfig config = config(topics, stateDir);
    return new TopologyTestDriver(
        new MonitorTopology(config, meters).buildTopology(new StreamsBuilder()),
        MonitorTopology.streamsConfig(config));
  }
}
