package io.prefstream.pairs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.avro.ImplicitKind;
import io.prefstream.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PairBuilderConfigTest {

  @TempDir Path tmp;

  @Test
  void defaultsAreTheDocumentedOnes() {
    PairBuilderConfig config = PairBuilderConfig.defaults();
    PairSemantics s = config.semantics();
    assertThat(s.sessionGap()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.allowedLateness()).isEqualTo(Duration.ofMinutes(2));
    assertThat(s.maxOutOfOrderness()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.holdoutShare()).isEqualTo(0.05);
    assertThat(s.implicitWeight()).isEqualTo(0.2);
    assertThat(s.implicitWeight(ImplicitKind.REGENERATE)).isEqualTo(-1.0);
    assertThat(config.bootstrapServers()).isEqualTo("localhost:9092");
    assertThat(config.startingOffsets()).isEqualTo("committed");
    assertThat(config.checkpointInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(config.flink()).isEmpty();
  }

  @Test
  void settingsOverrideDefaultsAndPassFlinkAndKafkaKeysThrough() {
    PairBuilderConfig config =
        PairBuilderConfig.from(
            Settings.of(
                Map.of(
                    "pairs.session-gap", "2m",
                    "pairs.implicit.copy", "0.5",
                    "pairs.starting-offsets", "LATEST",
                    "flink.state.backend.type", "rocksdb",
                    "kafka.security.protocol", "SSL")));
    assertThat(config.semantics().sessionGap()).isEqualTo(Duration.ofMinutes(2));
    assertThat(config.semantics().implicitWeight(ImplicitKind.COPY)).isEqualTo(0.5);
    assertThat(config.startingOffsets()).isEqualTo("latest");
    assertThat(config.flink()).containsEntry("state.backend.type", "rocksdb");
    assertThat(config.kafka()).containsEntry("security.protocol", "SSL");

    Configuration flink = PairBuilderJob.flinkConfiguration(config);
    assertThat(flink.toMap())
        .containsEntry("state.backend.type", "rocksdb")
        .containsEntry("execution.checkpointing.interval", "1000 ms")
        .containsEntry("pipeline.object-reuse", "true");
    assertThat(PairBuilderJob.producerProperties(config))
        .containsEntry("security.protocol", "SSL")
        .containsEntry("transaction.timeout.ms", "600000");
  }

  @Test
  void unknownKeysAndBadValuesFailNamingTheKey() {
    assertThatThrownBy(() -> PairBuilderConfig.from(Settings.of(Map.of("pairs.sesion-gap", "1m"))))
        .hasMessageContaining("pairs.sesion-gap")
        .hasMessageContaining("pairs.session-gap");
    assertThatThrownBy(
            () -> PairBuilderConfig.from(Settings.of(Map.of("pairs.holdout-share", "1.5"))))
        .hasMessageContaining("pairs.holdout-share")
        .hasMessageContaining("[0.0, 1.0]");
    assertThatThrownBy(
            () -> PairBuilderConfig.from(Settings.of(Map.of("pairs.starting-offsets", "newest"))))
        .hasMessageContaining("committed, earliest, latest");
    assertThatThrownBy(() -> PairBuilderConfig.from(Settings.of(Map.of("pairs.state-ttl", "1m"))))
        .hasMessageContaining("pairs.state-ttl");
  }

  @Test
  void jobArgumentsOverrideEnvironmentWhichOverridesTheConfigFile() throws Exception {
    Path file = tmp.resolve("pairs.properties");
    Files.writeString(file, "pairs.session-gap=10s\npairs.allowed-lateness=1m\npairs.group-id=f\n");
    Settings settings =
        PairBuilderJob.settings(
            new String[] {"--config", file.toString(), "--pairs.session-gap", "20s"},
            Map.of("PREFSTREAM_PAIRS_ALLOWED_LATENESS", "3m"));
    PairBuilderConfig config = PairBuilderConfig.from(settings);
    assertThat(config.semantics().sessionGap()).isEqualTo(Duration.ofSeconds(20));
    assertThat(config.semantics().allowedLateness()).isEqualTo(Duration.ofMinutes(3));
    assertThat(config.groupId()).isEqualTo("f");
  }
}
