package io.prefstream.launcher.stack;

import io.prefstream.launcher.TopicPrefixOption;
import io.prefstream.launcher.UserError;
import io.prefstream.local.LocalKafka;
import io.prefstream.local.LocalKafkaException;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options of the local stack that {@code up} and {@code demo} start. */
public final class LocalStackOptions {

  @Option(
      names = "--kafka-port",
      paramLabel = "PORT",
      defaultValue = "${env:PREFSTREAM_KAFKA_PORT:-9092}",
      description =
          "Port of the embedded Kafka broker; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
  int kafkaPort;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "Keep the broker's data here (a restart resumes it). Default: a temporary directory,"
              + " deleted on exit.")
  Path dataDir;

  @Mixin TopicPrefixOption prefix;

  @Option(
      names = "--bind",
      paramLabel = "HOST",
      defaultValue = "${env:PREFSTREAM_BIND}",
      description =
          "Interface every listener binds (the APIs, their /metrics listeners, the Flink REST"
              + " endpoint): 0.0.0.0 to serve other machines (give tenants and operators their"
              + " own keys first, see deploy/README.md). Default: 127.0.0.1, this machine only;"
              + " a config file's *.host keys apply when --bind is not given.")
  String bind;

  /** This stack's listeners on {@code --bind} (or this machine only). */
  public LocalStack.Builder applyTo(LocalStack.Builder stack) {
    return bind == null ? stack : stack.optBind(bind);
  }

  /** Starts the embedded broker with every topic, or fails with a message the user can act on. */
  public LocalKafka startKafka() {
    LocalKafka.Builder builder = LocalKafka.builder().optTopics(prefix.topics());
    try {
      builder.optPort(kafkaPort);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage() + " (--kafka-port)", e);
    }
    if (dataDir != null) {
      builder.optDataDir(dataDir);
    }
    try {
      return builder.build().start();
    } catch (LocalKafkaException e) {
      throw new UserError(e.getMessage() + " Option: --kafka-port PORT (0 = any free port).", e);
    }
  }
}
