package io.prefstream.launcher.stack;

import io.prefstream.config.Settings;
import io.prefstream.ingest.IngestMain;
import io.prefstream.launcher.TopicPrefixOption;
import io.prefstream.launcher.UserError;
import io.prefstream.local.LocalKafka;
import io.prefstream.local.LocalKafkaException;
import io.prefstream.monitor.MonitorMain;
import io.prefstream.pairs.LocalPairBuilder;
import io.prefstream.scorer.ScorerMain;
import io.prefstream.service.Service;
import io.prefstream.service.Services;
import io.prefstream.trainer.TrainerMain;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * One service alone, in its own process, against a Kafka cluster: what the fault-tolerance suite
 * kills and restarts, and what a container runs. It only delegates: each service starts by its own
 * module's entry point ({@code IngestMain}, {@code LocalPairBuilder}, {@code TrainerMain}, {@code
 * ScorerMain}, {@code MonitorMain}), as their {@code main} does. Prints one {@code ready SERVICE
 * ...} line, then runs until SIGTERM (each service stops cleanly: the trainer with a last
 * checkpoint).
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Run one service alone against a Kafka cluster until stopped: kafka (an embedded KRaft broker"
          + " with every topic), ingest, pair-builder (the Flink job on a local MiniCluster),"
          + " trainer, scorer or monitor.",
      "Prints one line 'prefstream: ready SERVICE key=value ...' when it serves."
    })
public final class RunCommand implements Runnable {

  public static final List<String> SERVICES =
      List.of("kafka", "ingest", "pair-builder", "trainer", "scorer", "monitor");

  @Parameters(
      index = "0",
      paramLabel = "SERVICE",
      description = "kafka, ingest, pair-builder, trainer, scorer or monitor.")
  String service;

  @Option(
      names = {"-b", "--bootstrap"},
      paramLabel = "HOST:PORT,...",
      defaultValue = "${env:PREFSTREAM_BOOTSTRAP:-localhost:9092}",
      description = "Kafka bootstrap servers. Default: ${DEFAULT-VALUE}.")
  String bootstrap;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      defaultValue = "-1",
      description =
          "Port it serves on: kafka 9092, ingest 8080, scorer 8081, monitor 8082, trainer 8083"
              + " (/metrics and /healthz only) by default; 0 picks a free one.")
  int port;

  @Option(
      names = "--bind",
      paramLabel = "HOST",
      description =
          "Interface it listens on (its API and /metrics; the pair builder's Flink REST"
              + " endpoint), over the config file and the environment. Default: the service's"
              + " *.host key (0.0.0.0; pairs.local-rest-address 127.0.0.1).")
  String bind;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      defaultValue = "${env:PREFSTREAM_DATA_DIR:-prefstream-data}",
      description =
          "Durable state, kept across restarts: the broker's log (kafka), Flink checkpoints"
              + " (pair-builder), the checkpoint store (trainer, DIR/checkpoints), Kafka Streams"
              + " state (monitor). Default: ${DEFAULT-VALUE}.")
  Path dataDir;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "Properties file of the service's keys (ingest.*, pairs.*, flink.*, trainer.*, model.*,"
              + " scorer.*, rollout.*, monitor.*, kafka.*); PREFSTREAM_* environment variables"
              + " override it.")
  Path configFile;

  @Mixin TopicPrefixOption prefix;
  @Spec CommandSpec spec;

  @Override
  public void run() {
    if (!SERVICES.contains(service)) {
      throw new UserError(
          "unknown service '" + service + "'; one of " + String.join(", ", SERVICES));
    }
    PrintWriter out = spec.commandLine().getOut();
    Service running = service.equals("kafka") ? startKafka() : startService(out);
    Services.runUntilStopped(service, running, out);
  }

  /**
   * Starts the service by its module's own entry point, with the settings of {@link
   * ServiceKind#settings}: its state under --data-dir, the config file, the environment, then
   * --bootstrap, --topic-prefix and --port.
   */
  private Service startService(PrintWriter out) {
    ServiceKind kind = ServiceKind.named(service);
    Settings settings =
        kind.settings(
            configFile == null ? Settings.empty() : Settings.fromFile(configFile),
            bind == null || kind.hostOption() == null
                ? Settings.empty()
                : Settings.of(java.util.Map.of(kind.hostOption().key(), bind)),
            bootstrap,
            prefix.topics(),
            dataDir,
            port < 0 ? null : port);
    return switch (kind) {
      case INGEST -> IngestMain.start(settings, out);
      case PAIR_BUILDER -> {
        LocalPairBuilder pairs = LocalPairBuilder.start(settings);
        pairs.onUnexpectedEnd(Services::halt); // a supervisor restarts it from its checkpoint
        yield pairs;
      }
      case TRAINER -> TrainerMain.start(settings, Services::halt);
      case SCORER -> ScorerMain.start(settings);
      case MONITOR -> MonitorMain.start(settings);
    };
  }

  private Service startKafka() {
    LocalKafka.Builder builder =
        LocalKafka.builder().optTopics(prefix.topics()).optDataDir(dataDir.resolve("kafka"));
    LocalKafka kafka;
    try {
      builder.optPort(port < 0 ? LocalKafka.DEFAULT_PORT : port);
      kafka = builder.build().start();
    } catch (IllegalArgumentException | LocalKafkaException e) {
      throw new UserError(e.getMessage() + " (--port, --data-dir)", e);
    }
    return new Service() {
      @Override
      public String ready() {
        return "bootstrap=" + kafka.bootstrapServers() + " data=" + kafka.dataDir();
      }

      @Override
      public void close() {
        kafka.close();
      }
    };
  }
}
