package io.prefstream.launcher.demo;

import io.prefstream.launcher.UserError;
import io.prefstream.launcher.stack.LocalStackOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The demo: the embedded broker, ingest, the pair builder on a local MiniCluster, the online
 * trainer, the scorer with its rollout controller and the drift monitor with its dashboard, while
 * the simulated product (or a dataset replay) sends feedback over HTTP at a steady rate and asks
 * the scorer for best-of-N; then the same events again to show idempotency, a second client that
 * checks every accepted event is in Kafka once, the pairs the stream made of them, and the reward
 * model trained on them, checked against the simulated users' true preferences (or the dataset's
 * held-back pairs). Scenarios add a preference shift or bad input. The command plans ({@link
 * DemoPlan}), runs ({@link DemoRun}), prints the {@link DemoSummary} and picks the exit code.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Run the system on this machine with the simulated product, then exit.")
public final class DemoCommand implements Runnable {

  @Mixin LocalStackOptions local;
  @Mixin SimulationOptions simulation;
  @Spec CommandSpec spec;

  @Option(
      names = "--ingest-port",
      paramLabel = "PORT",
      defaultValue = "0",
      description = "Port of the demo's ingest API. Default: any free port.")
  int ingestPort;

  @Option(
      names = "--scorer-port",
      paramLabel = "PORT",
      defaultValue = "${env:PREFSTREAM_SCORER_PORT:-8081}",
      description = "Port of the demo's scorer API; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
  int scorerPort;

  @Option(
      names = "--monitor-port",
      paramLabel = "PORT",
      defaultValue = "${env:PREFSTREAM_MONITOR_PORT:-8082}",
      description = "Port of the drift monitor; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
  int monitorPort;

  @Option(
      names = "--rate",
      paramLabel = "EVENTS_PER_S",
      defaultValue = "250",
      description =
          "Feedback events per second the simulated product sends; 0 sends as fast as ingest"
              + " takes them. Default: ${DEFAULT-VALUE}.")
  double rate;

  @Option(
      names = "--rank-rate",
      paramLabel = "PER_S",
      description =
          "Best-of-N requests per second the product makes to the scorer while it sends"
              + " feedback. Default: 10; with --model encoder 1 (on CPUs its scoring takes the"
              + " cores its training needs).")
  Double rankRate;

  @Option(
      names = "--scenario",
      paramLabel = "NAME",
      defaultValue = "steady",
      description =
          "steady (the default); preference-shift: the users' preferences shift halfway"
              + " (--shift-after, default 0.5); bad-input: 30%% malformed events and a stream of"
              + " garbage requests beside valid traffic; poisoned-checkpoint: once a champion"
              + " serves, a checkpoint trained on label-flipped pairs is published into the"
              + " store, and the canary must roll it back (20,000 events unless --events says"
              + " otherwise; the product sends on past them until the poison is judged, at most"
              + " 3 minutes more).")
  String scenario;

  @Option(
      names = "--model",
      paramLabel = "TYPE",
      description =
          "The reward model the trainer trains: ngram-mlp (hashed n-grams, fast on CPUs), encoder"
              + " (all-MiniLM-L6-v2 fine-tuned end to end: the model class that learns real human"
              + " preferences; on 2 CPU cores it trains some 6 pairs a second, so the demo"
              + " waits for it after the product stops), embed-mlp or transformer. Default:"
              + " PREFSTREAM_MODEL_TYPE, else ngram-mlp.")
  String model;

  @Option(
      names = "--dataset",
      paramLabel = "FILE",
      description =
          "Replay real preference pairs (e.g. ../shared/data/hh-rlhf/helpful-base/test.jsonl.gz)"
              + " as labeled-pair events over HTTP instead of the simulated product; --events"
              + " bounds how many.")
  Path dataset;

  @Option(
      names = "--summary",
      paramLabel = "FILE",
      description = "Also write the summary JSON here.")
  Path summaryFile;

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    DemoPlan plan =
        DemoPlan.of(
            scenario,
            simulation,
            spec.commandLine().getParseResult().hasMatchedOption("--events"),
            rate,
            rankRate,
            model,
            dataset,
            ingestPort,
            scorerPort,
            monitorPort);
    DemoRun.Result result = new DemoRun(plan, out).run(local::startKafka, local::applyTo);
    String json = result.summary().toJson();
    out.println(json);
    out.flush();
    if (summaryFile != null) {
      try {
        Files.writeString(summaryFile, json + "\n");
      } catch (IOException e) {
        throw new UserError(
            "Cannot write the summary to " + summaryFile + ": " + e.getMessage(), e);
      }
    }
    result
        .failure()
        .ifPresent(
            failure -> {
              throw new UserError(failure);
            });
  }
}
