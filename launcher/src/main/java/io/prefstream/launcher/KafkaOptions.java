package io.prefstream.launcher;

import io.prefstream.schemas.Topics;
import picocli.CommandLine.Option;

/** Where Kafka is and which topic prefix to use; shared by every command that talks to Kafka. */
public final class KafkaOptions {

  @Option(
      names = {"-b", "--bootstrap"},
      paramLabel = "HOST:PORT[,...]",
      defaultValue = "${env:PREFSTREAM_BOOTSTRAP:-localhost:9092}",
      description =
          "Kafka bootstrap servers (env PREFSTREAM_BOOTSTRAP). Default: ${DEFAULT-VALUE}.")
  String bootstrap;

  @Option(
      names = "--topic-prefix",
      paramLabel = "PREFIX",
      defaultValue = "${env:PREFSTREAM_TOPIC_PREFIX:-prefstream}",
      description =
          "Prefix of prefstream topic names (env PREFSTREAM_TOPIC_PREFIX). Default: ${DEFAULT-VALUE}.")
  String topicPrefix;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      defaultValue = "5",
      description = "How long to wait for Kafka to answer. Default: ${DEFAULT-VALUE} s.")
  int timeoutSeconds;

  public Topics topics() {
    try {
      return Topics.withPrefix(topicPrefix);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
  }

  public KafkaClients clients() {
    return new KafkaClients(bootstrap, java.time.Duration.ofSeconds(timeoutSeconds));
  }
}
