package io.prefstream.launcher;

import io.prefstream.schemas.Topics;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
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

  @Option(
      names = "--kafka-config",
      paramLabel = "FILE",
      defaultValue = "${env:PREFSTREAM_KAFKA_CONFIG}",
      description =
          "Properties file of Kafka client settings (security.protocol, sasl.*, ssl.*), as"
              + " Kafka's own tools take; a service's config file works too (its kafka.* keys)."
              + " Env PREFSTREAM_KAFKA_CONFIG.")
  Path kafkaConfig;

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
    return new KafkaClients(bootstrap, Duration.ofSeconds(timeoutSeconds), clientSettings());
  }

  /**
   * The settings of {@code --kafka-config}: every key of the file, or only its {@code kafka.*} keys
   * (prefix removed) when it has any, so a service's config file can be given as it is.
   */
  public Map<String, String> clientSettings() {
    if (kafkaConfig == null) {
      return Map.of();
    }
    Properties file = new Properties();
    try (Reader in = Files.newBufferedReader(kafkaConfig)) {
      file.load(in);
    } catch (IOException e) {
      throw new UserError("cannot read --kafka-config " + kafkaConfig + ": " + e.getMessage(), e);
    }
    Map<String, String> all = new TreeMap<>();
    Map<String, String> prefixed = new TreeMap<>();
    for (String key : file.stringPropertyNames()) {
      all.put(key, file.getProperty(key).strip());
      if (key.startsWith("kafka.")) {
        prefixed.put(key.substring("kafka.".length()), file.getProperty(key).strip());
      }
    }
    Map<String, String> settings = prefixed.isEmpty() ? all : prefixed;
    settings.remove("bootstrap.servers"); // --bootstrap says where
    return settings;
  }
}
