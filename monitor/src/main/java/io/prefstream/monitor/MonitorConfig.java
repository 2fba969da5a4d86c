package io.prefstream.monitor;

import static io.prefstream.monitor.MonitorOptions.*;

import io.prefstream.config.Settings;
import io.prefstream.http.HttpListener;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The monitor's configuration; see {@link MonitorOptions}.
 *
 * @param kafka Kafka client properties passed through ({@code kafka.*})
 */
public record MonitorConfig(
    String bootstrapServers,
    String topicPrefix,
    HttpListener listener,
    Path stateDir,
    Duration window,
    Duration grace,
    Duration staleAfter,
    Thresholds thresholds,
    MonitorTopology.Concept concept,
    MonitorTopology.Quality quality,
    Map<String, String> kafka) {

  public static MonitorConfig from(Settings s) {
    Map<String, String> thresholds = s.under("monitor.threshold.");
    Map<String, String> known = new HashMap<>();
    s.under("monitor.")
        .forEach(
            (k, v) -> {
              if (!k.startsWith("threshold.")) {
                known.put("monitor." + k, v);
              }
            });
    Settings.of(known).requireKnown("monitor.", ALL);
    return new MonitorConfig(
        s.get(BOOTSTRAP_SERVERS),
        s.get(TOPIC_PREFIX),
        LISTENER.read(s),
        Path.of(s.get(STATE_DIR)),
        s.get(WINDOW),
        s.get(GRACE),
        s.get(STALE_AFTER),
        new Thresholds(thresholds, s.get(LEAVE_SHARE)),
        new MonitorTopology.Concept(
            s.get(MODEL_NAME),
            s.get(CONCEPT_DELTA),
            s.get(CONCEPT_LAMBDA),
            s.get(CONCEPT_MIN_PAIRS)),
        new MonitorTopology.Quality(s.get(LATE_AFTER), s.get(DEDUP_WINDOW)),
        s.under("kafka."));
  }

  /** Interface the API binds. */
  public String host() {
    return listener.host();
  }

  /** The API's port, 0 for a free one. */
  public int port() {
    return listener.port();
  }
}
