package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.config.Settings;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IngestConfigTest {

  @Test
  void defaultsAreTheDocumentedOnes() {
    IngestConfig config = IngestConfig.defaults();

    assertThat(config.port()).isEqualTo(8080);
    assertThat(config.maxBodyBytes()).isEqualTo(1024 * 1024);
    assertThat(config.maxEvents()).isEqualTo(1000);
    assertThat(config.maxTextChars()).isEqualTo(65536);
    assertThat(config.dedupWindow()).isEqualTo(Duration.ofHours(24));
    assertThat(config.ackTimeout()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void settingsAndEnvironmentOverrideDefaults() {
    Settings env =
        Settings.fromEnv(
            Map.of("PREFSTREAM_INGEST_DEDUP_WINDOW", "2h", "PREFSTREAM_INGEST_PORT", "9000"),
            IngestOptions.ALL);
    Settings file = Settings.of(Map.of("ingest.max-body-bytes", "2MiB", "ingest.port", "1234"));

    IngestConfig config = IngestConfig.from(file.overriddenBy(env));

    assertThat(config.port()).isEqualTo(9000);
    assertThat(config.dedupWindow()).isEqualTo(Duration.ofHours(2));
    assertThat(config.maxBodyBytes()).isEqualTo(2 * 1024 * 1024);
  }

  @Test
  void badValuesAndUnknownKeysFailNamingTheKey() {
    assertThatThrownBy(() -> IngestConfig.from(Settings.of(Map.of("ingest.port", "http"))))
        .hasMessageContaining("ingest.port")
        .hasMessageContaining("'http'");
    assertThatThrownBy(() -> IngestConfig.from(Settings.of(Map.of("ingest.max-events", "0"))))
        .hasMessageContaining("ingest.max-events: must be in [1, 100000]");
    assertThatThrownBy(() -> IngestConfig.from(Settings.of(Map.of("ingest.max-evnts", "5"))))
        .hasMessageContaining("unknown config key(s) [ingest.max-evnts]");
    assertThatThrownBy(
            () -> IngestConfig.from(Settings.of(Map.of("ingest.dedup-window", "forever"))))
        .hasMessageContaining("ingest.dedup-window: expected a duration");
  }
}
