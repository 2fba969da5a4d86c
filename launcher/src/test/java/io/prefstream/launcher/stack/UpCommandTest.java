package io.prefstream.launcher.stack;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.launcher.Prefstream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class UpCommandTest {

  @Test
  void localStackDefaultsToPort9092AndATemporaryDirectory() {
    UpCommand up =
        (UpCommand)
            new CommandLine(new Prefstream())
                .parseArgs("up")
                .subcommand()
                .commandSpec()
                .userObject();

    assertThat(up.local.kafkaPort)
        .isEqualTo(Integer.parseInt(System.getenv().getOrDefault("PREFSTREAM_KAFKA_PORT", "9092")));
    assertThat(up.local.dataDir).isNull();
  }
}
