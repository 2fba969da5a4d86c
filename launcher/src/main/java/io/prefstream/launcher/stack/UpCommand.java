package io.prefstream.launcher.stack;

import io.prefstream.ingest.IngestServer;
import io.prefstream.local.LocalKafka;
import io.prefstream.monitor.MonitorServer;
import io.prefstream.pairs.LocalPairBuilder;
import io.prefstream.schemas.Topic;
import io.prefstream.scorer.ScorerServer;
import io.prefstream.trainer.TrainerService;
import java.io.PrintWriter;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Starts the local stack and runs until stopped (Ctrl-C or SIGTERM). */
@Command(
    name = "up",
    mixinStandardHelpOptions = true,
    description =
        "Start the local stack (embedded Kafka broker with every topic, ingest API, pair builder,"
            + " trainer) until stopped.")
public final class UpCommand implements Runnable {

  @Mixin LocalStackOptions local;
  @Mixin UpServiceOptions services;
  @Spec CommandSpec spec;

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    LocalKafka kafka = local.startKafka();
    LocalStack stack =
        services.applyTo(local.applyTo(LocalStack.builder(kafka))).optOut(out).start();
    IngestServer ingest = stack.ingest();
    LocalPairBuilder pairs = stack.pairBuilder();
    TrainerService trainer = stack.trainer();
    ScorerServer scorer = stack.scorer();
    MonitorServer monitor = stack.monitor();
    pairs.onUnexpectedEnd(
        reason -> {
          System.err.println("prefstream: " + reason + "; pairs are not being built");
          System.err.flush();
        });
    trainer.onUnexpectedEnd(
        reason -> {
          System.err.println("prefstream: " + reason + "; the reward model is not being trained");
          System.err.flush();
        });
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  out.println("prefstream: stopping");
                  out.flush();
                  try {
                    stack.close(); // the trainer trains what it read, writes a last checkpoint
                  } catch (RuntimeException e) {
                    System.err.println("prefstream: stopping: " + e.getMessage());
                  }
                  stopped.countDown();
                },
                "prefstream-shutdown"));
    out.println("prefstream: Kafka broker (KRaft) running, data in " + kafka.dataDir());
    for (Topic<?> topic : kafka.topics().all()) {
      out.printf(
          "  topic %-28s %d partition(s) %s%n",
          topic.name(), topic.partitions(), topic.compacted() ? "compacted" : "");
    }
    out.println("prefstream: ingest API at " + ingest.uri() + "/v1/events");
    out.println(
        "prefstream: pair builder (Flink job "
            + pairs.jobId()
            + ") on a local MiniCluster, checkpoint every "
            + pairs.config().checkpointInterval().toMillis()
            + " ms"
            + pairs.recoveredFrom().map(c -> ", resumed from " + c).orElse("")
            + pairs.restUri().map(u -> "; Flink web UI (no authentication) at " + u).orElse(""));
    out.println(
        "prefstream: trainer ("
            + trainer.config().model().type()
            + ") reading "
            + kafka.topics().pairs().name()
            + ", checkpoints in "
            + trainer.store());
    out.println(
        "prefstream: scorer API at "
            + scorer.uri()
            + "/v1/score, /v1/rank, /v1/models; rollout controller "
            + (scorer.controller() == null ? "off" : "on"));
    out.println(
        "prefstream: drift monitor (Kafka Streams) at "
            + monitor.uri()
            + "/v1/drift, /v1/alerts, /v1/dashboard (each with an API key)");
    out.println(
        "prefstream: meters (Prometheus, no key: keep these ports from tenants) at "
            + ingest.metricsUri()
            + " (with the trainer's), "
            + scorer.metricsUri()
            + ", "
            + monitor.metricsUri());
    out.println(
        "prefstream: ready bootstrap="
            + kafka.bootstrapServers()
            + " ingest="
            + ingest.uri()
            + " scorer="
            + scorer.uri()
            + " monitor="
            + monitor.uri()
            + " ingest.metrics="
            + ingest.metricsUri()
            + " scorer.metrics="
            + scorer.metricsUri()
            + " monitor.metrics="
            + monitor.metricsUri()
            + " (Ctrl-C to stop)");
    out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
