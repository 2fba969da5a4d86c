package io.prefstream.launcher.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.launcher.Prefstream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class OpsCommandsTest {

  @Test
  void defaultsToTheLocalBrokerAndTheDefaultPrefix() {
    TopicsCommand topics = parse(TopicsCommand.class, "topics");

    assertThat(topics.kafka.bootstrap())
        .isEqualTo(System.getenv().getOrDefault("PREFSTREAM_BOOTSTRAP", "localhost:9092"));
    assertThat(topics.kafka.topics().prefix())
        .isEqualTo(System.getenv().getOrDefault("PREFSTREAM_TOPIC_PREFIX", "prefstream"));
    assertThat(topics.kafka.clients().timeout()).hasSeconds(5);
  }

  @Test
  void takesOverridesFromOptions() {
    TailCommand tail =
        parse(
            TailCommand.class,
            "tail",
            "pairs",
            "-b",
            "k1:9092,k2:9092",
            "--topic-prefix",
            "staging",
            "--timeout",
            "9",
            "--from-beginning",
            "--max",
            "3");

    assertThat(tail.kafka.clients().bootstrap()).isEqualTo("k1:9092,k2:9092");
    assertThat(tail.kafka.topics().pairs().name()).isEqualTo("staging.pairs");
    assertThat(tail.kafka.clients().timeout()).hasSeconds(9);
    assertThat(tail.fromBeginning).isTrue();
    assertThat(tail.max).isEqualTo(3);
  }

  private static <T> T parse(Class<T> type, String... args) {
    CommandLine.ParseResult result = new CommandLine(new Prefstream()).parseArgs(args);
    return type.cast(result.subcommand().commandSpec().userObject());
  }
}
