package io.prefstream.config;

import static io.prefstream.config.ConfigOption.stringOption;

/**
 * The two keys every service that talks to Kafka has, under its own prefix ({@code
 * trainer.bootstrap-servers}, {@code scorer.topic-prefix}, ...): defined once here, so their
 * defaults and descriptions cannot drift apart.
 */
public final class KafkaOptions {

  private KafkaOptions() {}

  /** {@code SERVICE.bootstrap-servers}: the Kafka cluster to talk to. */
  public static ConfigOption<String> bootstrapServers(String service) {
    return stringOption(
        service + ".bootstrap-servers", "localhost:9092", "Kafka bootstrap servers.");
  }

  /** {@code SERVICE.topic-prefix}: the prefix of every prefstream topic it reads and writes. */
  public static ConfigOption<String> topicPrefix(String service) {
    return stringOption(
        service + ".topic-prefix", "prefstream", "Prefix of every prefstream topic.");
  }
}
