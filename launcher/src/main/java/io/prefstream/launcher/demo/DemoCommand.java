package io.prefstream.launcher.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.config.Settings;
import io.prefstream.ingest.EventResult;
import io.prefstream.ingest.EventStatus;
import io.prefstream.ingest.FeedbackClient;
import io.prefstream.ingest.IngestServer;
import io.prefstream.launcher.KafkaClients;
import io.prefstream.launcher.UserError;
import io.prefstream.launcher.stack.LocalStack;
import io.prefstream.launcher.stack.LocalStackOptions;
import io.prefstream.launcher.stack.ServiceKind;
import io.prefstream.local.LocalKafka;
import io.prefstream.model.checkpoint.CheckpointId;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.monitor.MonitorServer;
import io.prefstream.pairs.LocalPairBuilder;
import io.prefstream.pairs.PairBuilderOptions;
import io.prefstream.schemas.JsonForm;
import io.prefstream.scorer.ScorerOptions;
import io.prefstream.scorer.ScorerServer;
import io.prefstream.simulator.ProductRun;
import io.prefstream.simulator.SimulatedEvent;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import io.prefstream.trainer.TrainerOptions;
import io.prefstream.trainer.TrainerService;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
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
 * held-back pairs). Scenarios add a preference shift or bad input.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Run the system on this machine with the simulated product, then exit.")
public final class DemoCommand implements Runnable {

  private static final int RESENT = 100;

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
              + " (--shift-after, default 0.5); bad-input: 30% malformed events and a stream of"
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

  private static final java.util.List<String> SCENARIOS =
      java.util.List.of("steady", "preference-shift", "bad-input", "poisoned-checkpoint");

  /** Events of the poisoned-checkpoint scenario unless --events is given: time to judge it. */
  static final int POISONED_EVENTS = 20_000;

  /** How long the product may send past --events for the poisoned checkpoint to be judged. */
  static final Duration JUDGING = Duration.ofMinutes(3);

  /**
   * A demo lasts a minute or so: checkpoints every 10 s rather than 30 s, so the scorer shadows and
   * canaries new versions while the product still sends. An encoder on CPUs checkpoints every 30 s
   * and evaluates 300 holdout pairs: each evaluation scores them all.
   */
  private Settings trainerSettings() {
    if (modelType().equals("encoder")) {
      return Settings.of(
          Map.of(
              TrainerOptions.CHECKPOINT_INTERVAL.key(), "30s",
              TrainerOptions.HOLDOUT_WINDOW.key(), "300"));
    }
    return Settings.of(Map.of(TrainerOptions.CHECKPOINT_INTERVAL.key(), "10s"));
  }

  private String modelType() {
    return model != null ? model : System.getenv().getOrDefault("PREFSTREAM_MODEL_TYPE", "");
  }

  /** Best-of-N requests per second: as given, else 10, or 1 for an encoder. */
  private double rankRate() {
    return rankRate != null ? rankRate : modelType().equals("encoder") ? 1 : 10;
  }

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    long started = System.nanoTime();
    if (!SCENARIOS.contains(scenario)) {
      throw new UserError(
          "--scenario must be one of " + String.join(", ", SCENARIOS) + ", got '" + scenario + "'");
    }
    if (scenario.equals("preference-shift") && simulation.shiftAfter == null) {
      simulation.shiftAfter = 0.5;
    }
    if (scenario.equals("bad-input")) {
      simulation.malformedShare = Math.max(simulation.malformedShare, 0.3);
    }
    boolean poisoning = scenario.equals("poisoned-checkpoint");
    if (poisoning && dataset != null) {
      throw new UserError(
          "--scenario poisoned-checkpoint runs the simulated product, not --dataset");
    }
    if (poisoning && !spec.commandLine().getParseResult().hasMatchedOption("--events")) {
      simulation.events = POISONED_EVENTS;
    }
    if (simulation.events < 0) {
      throw new UserError("--events must be 0 (until Ctrl-C) or more, got " + simulation.events);
    }
    boolean untilStopped = simulation.events == 0;
    if (untilStopped && dataset == null && rate <= 0) {
      throw new UserError("--events 0 (until Ctrl-C) needs a --rate above 0");
    }
    if (untilStopped && (simulation.shiftAfter != null || simulation.newTopicAfter != null)) {
      throw new UserError(
          "--shift-after and --new-topic-after place a change by the run's length: give --events");
    }
    // A run with no set length follows the wall clock; a bounded one ends now.
    SimulatorConfig users =
        untilStopped && dataset == null ? simulation.liveConfig(rate) : simulation.config();
    DatasetReplay replayed =
        dataset == null
            ? null
            : DatasetReplay.read(
                dataset, users.tenant(), untilStopped ? Integer.MAX_VALUE : simulation.events);
    LocalStack.Builder stackPlan =
        LocalStack.builder(local.startKafka())
            .optOut(out)
            .optPort(ServiceKind.INGEST, ingestPort)
            .optPort(ServiceKind.SCORER, scorerPort)
            .optPort(ServiceKind.MONITOR, monitorPort)
            // The demo ends by draining the job (event time to its end); Flink drops that final
            // watermark from a source marked idle, and the demo's partitions all carry traffic,
            // so idleness waits longer than the demo runs.
            .optDefaults(
                ServiceKind.PAIR_BUILDER,
                Settings.of(Map.of(PairBuilderOptions.IDLE_TIMEOUT.key(), "1h")))
            .optDefaults(ServiceKind.TRAINER, trainerSettings())
            .optForced(
                ServiceKind.TRAINER,
                model == null ? Settings.empty() : Settings.of(Map.of("model.type", model)))
            // The demo's scoring traffic is light: the monitor sees every served score. Its
            // HOLDOUT pairs come a few a second: 30 fresh pairs a step (not 200) let a candidate
            // be judged and promoted while the product still sends.
            .optDefaults(
                ServiceKind.SCORER,
                Settings.of(
                    Map.of(
                        ScorerOptions.SCORE_SAMPLE.key(), "1",
                        ScorerOptions.ROLLOUT_MIN_PAIRS.key(), "30")));
    try (LocalStack stack = stackPlan.start()) {
      LocalKafka kafka = stack.kafka();
      IngestServer ingest = stack.ingest();
      LocalPairBuilder pairBuilder = stack.pairBuilder();
      TrainerService trainer = stack.trainer();
      ScorerServer scorer = stack.scorer();
      MonitorServer monitor = stack.monitor();
      out.println("prefstream demo: Kafka broker (KRaft) at " + kafka.bootstrapServers());
      out.println("prefstream demo: ingest API at " + ingest.uri());
      out.println(
          "prefstream demo: pair builder (Flink job "
              + pairBuilder.jobId()
              + ") on a local MiniCluster");
      out.println(
          "prefstream demo: trainer ("
              + trainer.config().model().type()
              + ") checkpoints in "
              + trainer.store());
      out.println("prefstream demo: scorer API at " + scorer.uri());
      out.println("prefstream demo: drift monitor at " + monitor.uri() + "/v1/drift");
      out.println("prefstream demo: dashboard at " + monitor.uri() + "/");
      if (rate < 0 || rankRate() < 0) {
        throw new UserError("--rate and --rank-rate must not be negative");
      }
      Simulator simulator = new Simulator(users);
      Simulator replay = new Simulator(users);
      ProductRun.Progress progress = new ProductRun.Progress();
      String tenant = users.tenant();
      DemoLive live =
          new DemoLive(
                  out,
                  progress,
                  trainer,
                  scorer,
                  tenant,
                  trainer.config().modelName(),
                  new Simulator(users.withSeed(users.seed() + 1)),
                  replayed == null ? rankRate() : 0,
                  Duration.ofSeconds(5))
              .start();
      PoisonedCheckpoint poison =
          poisoning
              ? new PoisonedCheckpoint(
                      out,
                      trainer,
                      scorer,
                      new KafkaClients(kafka.bootstrapServers(), Duration.ofSeconds(30)),
                      kafka.topics(),
                      users,
                      kafka.dataDir().resolve("poisoned"))
                  .start()
              : null;
      ProductRun.Report report;
      long duplicates = 0;
      BadInput.Result garbage = null;
      out.println(
          untilStopped
              ? "prefstream demo: sending until Ctrl-C; then it drains, reconciles and sums up"
              : "prefstream demo: sending "
                  + (replayed == null ? simulation.events + " events" : "the dataset")
                  + "; Ctrl-C stops early, and the summary still follows");
      out.flush();
      try (FeedbackClient client = FeedbackClient.builder(ingest.uri(), "demo-key").build();
          CtrlC stop = CtrlC.install(out, "stopping the product; draining and summing up")) {
        BadInput bad = scenario.equals("bad-input") ? BadInput.start(ingest.uri()) : null;
        if (replayed != null) {
          out.printf(
              "replaying %d pairs of %s as labeled-pair events (%d left out: too long or"
                  + " unusable)%n",
              replayed.size(), replayed.file(), replayed.skipped());
          report = replayed.run(client, rate, progress, stop);
        } else {
          report =
              ProductRun.run(
                  simulator,
                  client,
                  untilStopped ? Integer.MAX_VALUE : simulation.events,
                  rate,
                  progress,
                  stop);
          if (poison != null && !untilStopped && !stop.getAsBoolean() && !poison.settled()) {
            // The poison is judged on fresh holdout pairs, which come only while users send:
            // the product sends on past --events until it is decided, for at most JUDGING.
            out.printf(
                "poisoned checkpoint: %s; the product keeps sending until it is judged (at most"
                    + " %d s more)%n",
                poison.version() == 0 ? "not published yet" : "v" + poison.version() + " undecided",
                JUDGING.toSeconds());
            out.flush();
            long deadline = System.nanoTime() + JUDGING.toNanos();
            BooleanSupplier judged =
                () -> stop.getAsBoolean() || poison.settled() || System.nanoTime() > deadline;
            report =
                report.plus(
                    ProductRun.run(simulator, client, Integer.MAX_VALUE, rate, progress, judged));
          }
        }
        if (bad != null) {
          garbage = bad.stop();
          out.printf(
              "bad input: %d garbage requests answered %s; %d closed unanswered (an oversized"
                  + " body); %d server errors%n",
              garbage.sent(),
              garbage.byStatus(),
              garbage.unanswered().size(),
              garbage.serverErrors().size());
          garbage.serverErrors().stream().limit(5).forEach(e -> out.println("  " + e));
        }
        out.printf(
            "%s sent %d events: %d accepted, %d rejected (%d deliberately malformed)%n",
            replayed == null ? "simulated product" : "dataset replay",
            report.sent(),
            report.accepted(),
            report.rejected(),
            report.malformedSent());
        duplicates = replayed == null ? resend(replay, client) : replayed.resend(client, RESENT);
        out.printf(
            "sent the first %d valid events again: %d answered duplicate%n", RESENT, duplicates);
      }
      Set<String> distinct = new HashSet<>();
      long records = readFeedback(kafka, distinct);
      if (!pairBuilder.awaitCaughtUp(Duration.ofMinutes(2))) {
        throw new UserError(
            "demo: the pair builder did not read every event within 2 minutes (job "
                + pairBuilder.status()
                + ")");
      }
      // The product has stopped: end event time so every interaction is final.
      pairBuilder.drain(kafka.dataDir().resolve("flink-savepoints"));
      PairCounts pairs = PairCounts.read(kafka.bootstrapServers(), kafka.topics());
      out.printf(
          "pair builder: %d pairs (%d holdout) by source %s%n",
          pairs.total(), pairs.holdout(), pairs.bySource());
      long trainPairs = pairs.total() - pairs.holdout();
      if (!trainer.awaitTrained(tenant, trainPairs, Duration.ofMinutes(5))) {
        throw new UserError(
            "demo: the trainer stopped, or trained nothing for 5 minutes, before it had trained"
                + " all "
                + trainPairs
                + " pairs");
      }
      if (poison != null && !poison.awaitDecision(Duration.ofMinutes(1))) {
        out.println(
            "poisoned checkpoint: "
                + (poison.version() == 0 || poison.failed()
                    ? poison.problem()
                    : "v" + poison.version() + " not judged within a minute of the last pair"));
      }
      live.close();
      out.println(live.line());
      var trained = trainer.stop(Duration.ofMinutes(2)).get(tenant);
      Optional<Double> agreement =
          replayed != null || trained == null || trained.version() == 0
              ? Optional.empty() // real data has no true utility: judged on held-back pairs
              : TruePreference.agreement(
                  new DirectoryCheckpointStore(trainer.store()),
                  new CheckpointId(tenant, trainer.config().modelName(), trained.version()),
                  users,
                  simulator.now(),
                  2000);
      out.printf(
          "trainer: %d pairs trained, %d checkpoint(s), prequential accuracy %.3f, holdout %.3f%s%n",
          trained == null ? 0 : trained.pairsTrained(),
          trainer.checkpointsWritten(),
          trained == null ? Double.NaN : trained.prequentialAccuracy(),
          trained == null ? Double.NaN : trained.holdoutAccuracy(),
          agreement
              .map(a -> String.format(", agreement with the users' true preferences %.3f", a))
              .orElse(""));
      DemoServing serving =
          DemoServing.report(
              scorer,
              tenant,
              trainer.config().modelName(),
              replayed == null ? simulator : null,
              out);
      double heldBack =
          replayed == null ? Double.NaN : replayed.judge(scorer, serving.served(), out);
      long deadLetters = pairs.deadLetters().values().stream().mapToLong(Long::longValue).sum();
      long lost = report.accepted() - distinct.size();
      double seconds = (System.nanoTime() - started) / 1e9;
      ObjectNode summary = JsonForm.mapper().createObjectNode();
      summary.put("demo", "pairs");
      summary.put("scenario", scenario);
      if (replayed != null) {
        summary.put("dataset", replayed.file().toString());
      }
      ObjectNode events = summary.putObject("events");
      events.put("sent", report.sent() + RESENT);
      events.put("accepted", report.accepted());
      events.put("rejected", report.rejected());
      events.put("duplicate", report.duplicate() + duplicates);
      events.put("malformed_sent", report.malformedSent());
      ObjectNode pairNode = summary.putObject("pairs");
      ObjectNode bySource = pairNode.putObject("by_source");
      pairs.bySource().forEach(bySource::put);
      pairNode.put("total", pairs.total());
      pairNode.put("holdout", pairs.holdout());
      long pairsTrained = trained == null ? 0 : trained.pairsTrained();
      pairNode.put("trained", pairsTrained);
      summary.put("checkpoints", trainer.checkpointsWritten());
      ObjectNode accuracy = summary.putObject("accuracy");
      putFigure(
          accuracy, "prequential", trained == null ? Double.NaN : trained.prequentialAccuracy());
      putFigure(accuracy, "holdout", trained == null ? Double.NaN : trained.holdoutAccuracy());
      putFigure(accuracy, "true_preference", agreement.orElse(Double.NaN));
      if (replayed != null) {
        putFigure(accuracy, "held_back_chosen_first", heldBack);
      }
      summary.put("model", trainer.config().model().type());
      summary.set("rollouts", serving.rollouts());
      ObjectNode poisoned = null;
      if (poison != null) {
        poisoned = poison.report(live.servedBy(poison.version()));
        summary.set("poisoned_checkpoint", poisoned);
        out.printf(
            "poisoned checkpoint: v%d %s%s; largest traffic share %.0f%%, %d best-of-N answers"
                + " from it%n",
            poison.version(),
            poisoned.get("outcome").asText(),
            poisoned.has("reason") ? " (" + poisoned.get("reason").asText() + ")" : "",
            100 * poisoned.get("max_traffic_share").asDouble(),
            poisoned.get("served_best_of_n").asLong());
        poison.close();
      }
      serving.served().put("live_best_of_n_requests", live.ranked());
      summary.set("serving", serving.served());
      var alerts = summary.putArray("drift_alerts");
      for (var r : monitor.latest()) {
        if (r.getLevel() != io.prefstream.avro.AlertLevel.OK) {
          var a = alerts.addObject();
          a.put("metric", r.getModel() + "/" + r.getMetric());
          a.put("value", Math.round(r.getValue() * 10000) / 10000.0);
          a.put(
              "threshold",
              r.getLevel() == io.prefstream.avro.AlertLevel.ALERT
                  ? r.getAlertThreshold()
                  : r.getWarnThreshold());
          a.put("level", r.getLevel().name());
          a.put("at", r.getWindowEnd().toString());
        }
      }
      summary.put("dead_letters", deadLetters);
      if (garbage != null) {
        ObjectNode bad = summary.putObject("bad_input");
        bad.put("garbage_requests", garbage.sent());
        garbage.byStatus().forEach((status, n) -> bad.put("answered_" + status, n));
        bad.put("closed_unanswered", garbage.unanswered().size());
        bad.put("server_errors", garbage.serverErrors().size());
      }
      ObjectNode lettersBySource = summary.putObject("dead_letters_by_source");
      pairs.deadLetters().forEach(lettersBySource::put);
      ObjectNode inKafka = summary.putObject("kafka");
      inKafka.put("feedback_records", records);
      inKafka.put("distinct_event_ids", distinct.size());
      ObjectNode lostNode = summary.putObject("lost");
      lostNode.put("events", lost);
      lostNode.put("pairs", trainPairs - pairsTrained);
      summary.put("seconds", Math.round(seconds * 100) / 100.0);
      out.println(summary);
      out.flush();
      writeSummary(summary);
      if (lost != 0
          || pairsTrained != trainPairs
          || records != distinct.size()
          || report.validRejected() > 0
          || (garbage != null && !garbage.serverErrors().isEmpty())
          || report.unanswered() > 0) {
        throw new UserError(
            "demo: accepted "
                + report.accepted()
                + ", in Kafka "
                + records
                + " records of "
                + distinct.size()
                + " distinct events; see above");
      }
      if (poisoned != null && !poisoned.get("outcome").asText().equals("rolled_back")) {
        throw new UserError(
            "demo: the poisoned checkpoint v"
                + poison.version()
                + " was "
                + poisoned.get("outcome").asText()
                + ", not rolled back");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted", e);
    } catch (IOException e) {
      throw new UserError("demo: reading the checkpoint store failed: " + e.getMessage(), e);
    }
  }

  private static long resend(Simulator replay, FeedbackClient client) throws InterruptedException {
    List<CompletableFuture<EventResult>> answers = new ArrayList<>();
    while (answers.size() < RESENT) {
      for (SimulatedEvent e : replay.nextInteraction()) {
        if (!e.isMalformed() && answers.size() < RESENT) {
          answers.add(client.send(e.event()));
        }
      }
    }
    long duplicates = 0;
    for (CompletableFuture<EventResult> answer : answers) {
      try {
        duplicates += answer.get().status() == EventStatus.DUPLICATE ? 1 : 0;
      } catch (ExecutionException e) {
        // counted as not duplicate; the summary shows it
      }
    }
    return duplicates;
  }

  private static long readFeedback(LocalKafka kafka, Set<String> eventIds) {
    return new KafkaClients(kafka.bootstrapServers(), Duration.ofSeconds(30))
        .readCommitted(kafka.topics().feedback(), event -> eventIds.add(event.getEventId()));
  }

  /** A figure rounded to 4 decimals, or null when it is not finite. */
  static void putFigure(ObjectNode node, String key, double value) {
    if (Double.isFinite(value)) {
      node.put(key, Math.round(value * 10000) / 10000.0);
    } else {
      node.putNull(key);
    }
  }

  private void writeSummary(ObjectNode summary) {
    if (summaryFile == null) {
      return;
    }
    try {
      Files.writeString(summaryFile, summary.toString() + "\n");
    } catch (IOException e) {
      throw new UserError("Cannot write the summary to " + summaryFile + ": " + e.getMessage(), e);
    }
  }
}
