package io.prefstream.launcher;

import io.prefstream.schemas.Topics;
import picocli.CommandLine.Option;

/** The {@code --topic-prefix} option and the topics it names. */
public final class TopicPrefixOption {

  @Option(
      names = "--topic-prefix",
      paramLabel = "PREFIX",
      defaultValue = "${env:PREFSTREAM_TOPIC_PREFIX:-prefstream}",
      description =
          "Prefix of prefstream topic names (env PREFSTREAM_TOPIC_PREFIX). Default: ${DEFAULT-VALUE}.")
  String topicPrefix;

  public Topics topics() {
    try {
      return Topics.withPrefix(topicPrefix);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage() + " (--topic-prefix)", e);
    }
  }
}
