package io.prefstream.launcher.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.launcher.Prefstream;
import io.prefstream.launcher.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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

  @Test
  void takesKafkaClientSettingsFromAFileOrFromAServiceConfigsKafkaKeys(@TempDir Path dir)
      throws Exception {
    Path tools = dir.resolve("client.properties");
    Files.writeString(
        tools,
        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nbootstrap.servers=elsewhere:1\n");
    TopicsCommand topics =
        parse(TopicsCommand.class, "topics", "-b", "k1:9093", "--kafka-config", tools.toString());
    assertThat(topics.kafka.clientSettings())
        .containsOnly(
            Map.entry("security.protocol", "SASL_SSL"),
            Map.entry("sasl.mechanism", "SCRAM-SHA-512"));
    assertThat(topics.kafka.clients().config())
        .containsEntry("bootstrap.servers", "k1:9093")
        .containsEntry("security.protocol", "SASL_SSL");

    Path service = dir.resolve("scorer.properties");
    Files.writeString(
        service,
        "scorer.port=8082\nkafka.security.protocol=SSL\nkafka.ssl.truststore.location=/t.p12\n");
    topics = parse(TopicsCommand.class, "topics", "--kafka-config", service.toString());
    assertThat(topics.kafka.clientSettings())
        .containsOnly(
            Map.entry("security.protocol", "SSL"), Map.entry("ssl.truststore.location", "/t.p12"));
  }

  @Test
  void anUnreadableKafkaConfigIsAUserErrorNamingTheFile(@TempDir Path dir) {
    Path missing = dir.resolve("nope.properties");
    TopicsCommand topics =
        parse(TopicsCommand.class, "topics", "--kafka-config", missing.toString());
    assertThatThrownBy(topics.kafka::clientSettings)
        .isInstanceOf(UserError.class)
        .hasMessageContaining("cannot read --kafka-config " + missing);
  }

  private static <T> T parse(Class<T> type, String... args) {
    CommandLine.ParseResult result = new CommandLine(new Prefstream()).parseArgs(args);
    return type.cast(result.subcommand().commandSpec().userObject());
  }
}
