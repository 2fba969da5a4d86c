package io.prefstream.launcher.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.config.Settings;
import io.prefstream.schemas.Topics;
import io.prefstream.trainer.TrainerConfig;
import io.prefstream.trainer.TrainerOptions;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceKindTest {

  private static final Path DATA = Path.of("/var/prefstream");
  private static final Topics TOPICS = Topics.withPrefix("staging");

  @Test
  void stateLiesUnderTheDataDirectoryUnlessGiven() {
    Settings trainer =
        ServiceKind.TRAINER.settings(
            Settings.empty(), Settings.empty(), "k:9092", TOPICS, DATA, null);
    Settings monitor =
        ServiceKind.MONITOR.settings(
            Settings.empty(), Settings.empty(), "k:9092", TOPICS, DATA, null);
    Settings pairs =
        ServiceKind.PAIR_BUILDER.settings(
            Settings.empty(), Settings.empty(), "k:9092", TOPICS, DATA, null);
    Settings given =
        ServiceKind.TRAINER.settings(
            Settings.of(Map.of("trainer.store", "/elsewhere")),
            Settings.empty(),
            "k:9092",
            TOPICS,
            DATA,
            null);

    assertThat(trainer.get(TrainerOptions.STORE)).isEqualTo("/var/prefstream/checkpoints");
    assertThat(monitor.get(io.prefstream.monitor.MonitorOptions.STATE_DIR))
        .isEqualTo("/var/prefstream/monitor-state");
    assertThat(pairs.get(io.prefstream.pairs.PairBuilderOptions.LOCAL_STATE_DIR))
        .isEqualTo("/var/prefstream");
    assertThat(given.get(TrainerOptions.STORE)).isEqualTo("/elsewhere");
  }

  @Test
  void forcedOptionsBeatTheGivenAndTheWiringBeatsBoth() {
    Settings settings =
        ServiceKind.TRAINER.settings(
            Settings.of(
                Map.of(
                    "model.type", "embed-mlp",
                    "trainer.batch-size", "7",
                    "trainer.bootstrap-servers", "file:9092")),
            Settings.of(Map.of("model.type", "encoder", "trainer.topic-prefix", "forced")),
            "k:9092",
            TOPICS,
            DATA,
            9000);
    TrainerConfig config = TrainerConfig.from(settings);

    assertThat(config.model().type()).isEqualTo("encoder");
    assertThat(config.batchSize()).isEqualTo(7);
    assertThat(config.bootstrapServers()).isEqualTo("k:9092");
    assertThat(config.topicPrefix()).isEqualTo("staging");
    assertThat(settings.get(TrainerOptions.PORT)).isEqualTo(9000);
  }

  @Test
  void withoutAPortTheKeyOrItsDefaultHolds() {
    Settings fromFile =
        ServiceKind.SCORER.settings(
            Settings.of(Map.of("scorer.port", "9100")),
            Settings.empty(),
            "k:9092",
            TOPICS,
            DATA,
            null);
    Settings pairs =
        ServiceKind.PAIR_BUILDER.settings(
            Settings.empty(), Settings.empty(), "k:9092", TOPICS, DATA, 1234);

    assertThat(fromFile.get(io.prefstream.scorer.ScorerOptions.PORT)).isEqualTo(9100);
    assertThat(ServiceKind.PAIR_BUILDER.portOption()).isNull(); // it serves nothing
    assertThat(pairs.get(io.prefstream.pairs.PairBuilderOptions.BOOTSTRAP_SERVERS))
        .isEqualTo("k:9092");
  }

  @Test
  void eachServiceIsNamedAsOnTheCommandLine() {
    assertThat(ServiceKind.named("pair-builder")).isEqualTo(ServiceKind.PAIR_BUILDER);
    assertThat(ServiceKind.named("monitor").serviceName()).isEqualTo("monitor");
    assertThatThrownBy(() -> ServiceKind.named("kafka"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
