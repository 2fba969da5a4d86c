package io.prefstream.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class PrefstreamTest {

  @Test
  void defaultsToTheLocalBrokerAndTheDefaultPrefix() {
    TopicsCommand topics = parse(TopicsCommand.class, "topics");

    assertThat(topics.kafka.bootstrap)
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

  @Test
  void localStackDefaultsToPort9092AndATemporaryDirectory() {
    UpCommand up = parse(UpCommand.class, "up");

    assertThat(up.local.kafkaPort)
        .isEqualTo(Integer.parseInt(System.getenv().getOrDefault("PREFSTREAM_KAFKA_PORT", "9092")));
    assertThat(up.local.dataDir).isNull();
  }

  @Test
  void exitsTwoWithUsageOnBadArguments() {
    StringWriter err = new StringWriter();

    assertThat(run(err, "tail")).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required parameter: 'TOPIC'");
    assertThat(run(new StringWriter(), "up", "--kafka-port", "many")).isEqualTo(2);
    assertThat(run(new StringWriter())).isEqualTo(2);
  }

  @Test
  void exitsOneWithOneLineForValuesItCannotUse() {
    StringWriter err = new StringWriter();

    assertThat(run(err, "topics", "--topic-prefix", "bad prefix!")).isEqualTo(1);
    assertThat(err.toString().strip())
        .startsWith("prefstream: Topic prefix must be")
        .endsWith("(--topic-prefix)")
        .doesNotContain("Exception");

    StringWriter timeout = new StringWriter();
    assertThat(run(timeout, "topics", "--timeout", "0")).isEqualTo(1);
    assertThat(timeout.toString()).contains("--timeout must be at least 1 second, got 0");
  }

  private static <T> T parse(Class<T> type, String... args) {
    CommandLine cli = new CommandLine(new Prefstream());
    CommandLine.ParseResult result = cli.parseArgs(args);
    return type.cast(result.subcommand().commandSpec().userObject());
  }

  private static int run(StringWriter err, String... args) {
    CommandLine cli = Prefstream.commandLine();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    return cli.execute(args);
  }
}
