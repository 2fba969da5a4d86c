package io.prefstream.launcher;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prefstream.config.Settings;
import io.prefstream.ingest.IngestServer;
import io.prefstream.local.LocalKafka;
import io.prefstream.local.LocalKafkaException;
import io.prefstream.monitor.MonitorServer;
import io.prefstream.scorer.ScorerServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * One service alone, in its own process, against a Kafka cluster: what the fault-tolerance suite
 * kills and restarts, and what a container runs. Prints one {@code ready SERVICE ...} line, then
 * runs until SIGTERM (each service stops cleanly: the trainer with a last checkpoint).
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
    Settings settings = configFile == null ? Settings.empty() : Settings.fromFile(configFile);
    AutoCloseable running;
    String ready;
    switch (service) {
      case "kafka" -> {
        LocalKafka kafka = startKafka();
        running = kafka;
        ready = "bootstrap=" + kafka.bootstrapServers() + " data=" + kafka.dataDir();
      }
      case "ingest" -> {
        IngestStartOptions options = new IngestStartOptions();
        options.port = port(8080);
        options.configFile = configFile;
        IngestServer ingest = options.start(bootstrap, prefix.topics(), out);
        running = ingest;
        ready = "uri=" + ingest.uri();
      }
      case "pair-builder" -> {
        LocalPairBuilder pairs =
            LocalPairBuilder.start(bootstrap, prefix.topics(), settings, dataDir);
        pairs.onUnexpectedEnd(
            reason -> {
              System.err.println("prefstream: " + reason);
              System.err.flush();
              Runtime.getRuntime().halt(1); // let a supervisor restart it from its checkpoint
            });
        running = pairs;
        ready =
            "job="
                + pairs.jobId()
                + pairs.recoveredFrom().map(c -> " resumed=" + c).orElse(" resumed=none");
      }
      case "trainer" -> {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        LocalTrainer trainer =
            LocalTrainer.start(bootstrap, prefix.topics(), settings, dataDir, registry);
        trainer.onUnexpectedEnd(
            reason -> {
              System.err.println("prefstream: " + reason);
              System.err.flush();
              Runtime.getRuntime().halt(1); // a trainer that is not training must not look alive
            });
        TrainerEndpoint endpoint;
        try {
          endpoint = TrainerEndpoint.start(port(8083), registry, trainer);
        } catch (UserError e) {
          trainer.close();
          throw e;
        }
        running =
            () -> {
              try (endpoint) {
                trainer.close();
              }
            };
        ready = "store=" + trainer.store() + " uri=" + endpoint.uri();
      }
      case "scorer" -> {
        ScorerServer scorer = LocalScorer.start(bootstrap, prefix.topics(), settings, port(8081));
        running = scorer;
        ready = "uri=" + scorer.uri();
      }
      default -> {
        MonitorServer monitor =
            LocalMonitor.start(bootstrap, prefix.topics(), settings, dataDir, port(8082));
        running = monitor;
        ready = "uri=" + monitor.uri();
      }
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  out.println("prefstream: stopping " + service);
                  out.flush();
                  try {
                    running.close();
                  } catch (Exception e) {
                    System.err.println("prefstream: stopping " + service + ": " + e.getMessage());
                  }
                  stopped.countDown();
                },
                "prefstream-shutdown"));
    out.println("prefstream: ready " + service + " " + ready);
    out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private int port(int fallback) {
    return port < 0 ? fallback : port;
  }

  private LocalKafka startKafka() {
    LocalKafka.Builder builder =
        LocalKafka.builder().optTopics(prefix.topics()).optDataDir(dataDir.resolve("kafka"));
    try {
      builder.optPort(port(LocalKafka.DEFAULT_PORT));
      return builder.build().start();
    } catch (IllegalArgumentException | LocalKafkaException e) {
      throw new UserError(e.getMessage() + " (--port, --data-dir)", e);
    }
  }
}
