package io.prefstream.launcher;

import io.prefstream.schemas.Topics;
import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Where Kafka is and which topic prefix to use; shared by every command that talks to Kafka. */
public final class ClusterOptions {

  @Option(
      names = {"-b", "--bootstrap"},
      paramLabel = "HOST:PORT[,...]",
      defaultValue = "${env:PREFSTREAM_BOOTSTRAP:-localhost:9092}",
      description =
          "Kafka bootstrap servers (env PREFSTREAM_BOOTSTRAP). Default: ${DEFAULT-VALUE}.")
  String bootstrap;

  @Mixin TopicPrefixOption prefix;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      defaultValue = "5",
      description = "How long to wait for Kafka to answer. Default: ${DEFAULT-VALUE} s.")
  int timeoutSeconds;

  /** The bootstrap servers, as given. */
  public String bootstrap() {
    return bootstrap;
  }

  /** How long to wait for Kafka to answer. */
  public java.time.Duration timeout() {
    return java.time.Duration.ofSeconds(timeoutSeconds);
  }

  public Topics topics() {
    return prefix.topics();
  }

  public KafkaClients clients() {
    if (timeoutSeconds < 1) {
      throw new UserError("--timeout must be at least 1 second, got " + timeoutSeconds);
    }
    return new KafkaClients(bootstrap, Duration.ofSeconds(timeoutSeconds));
  }
}
