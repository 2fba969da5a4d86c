package io.prefstream.launcher.demo;

import io.prefstream.avro.AlertLevel;
import io.prefstream.http.ApiKeys;
import io.prefstream.ingest.EventResult;
import io.prefstream.ingest.EventStatus;
import io.prefstream.ingest.FeedbackClient;
import io.prefstream.ingest.IngestServer;
import io.prefstream.launcher.KafkaClients;
import io.prefstream.launcher.UserError;
import io.prefstream.launcher.stack.LocalStack;
import io.prefstream.local.LocalKafka;
import io.prefstream.model.checkpoint.CheckpointId;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.monitor.MonitorServer;
import io.prefstream.pairs.LocalPairBuilder;
import io.prefstream.simulator.ProductRun;
import io.prefstream.simulator.SimulatedEvent;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import io.prefstream.trainer.OnlineTrainer;
import io.prefstream.trainer.TrainerService;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * One demo run of a {@link DemoPlan}: the local stack, the product sending over HTTP (with the
 * scenario's extras), then the events again, the reconciliation with Kafka, the drained pair
 * builder, the trained model judged, and the {@link DemoSummary} of it all. Progress goes to {@code
 * out}; the summary and what went wrong come back as a {@link Result}.
 */
final class DemoRun {

  /** Valid events sent a second time, to show idempotency. */
  static final int RESENT = 100;

  /** How long the product may send past --events for the poisoned checkpoint to be judged. */
  static final Duration JUDGING = Duration.ofMinutes(3);

  /**
   * What a run did, and why it failed if it did (an event lost, a pair not trained, a server error,
   * a poison not rolled back): the command prints the summary either way.
   */
  record Result(DemoSummary summary, Optional<String> failure) {}

  private final DemoPlan plan;
  private final PrintWriter out;

  DemoRun(DemoPlan plan, PrintWriter out) {
    this.plan = plan;
    this.out = out;
  }

  /** Runs the demo on the broker {@code kafka} starts (once the plan's dataset is read). */
  Result run(
      Supplier<LocalKafka> startKafka,
      java.util.function.UnaryOperator<LocalStack.Builder> listeners) {
    long started = System.nanoTime();
    SimulatorConfig users = plan.users();
    DatasetReplay replayed =
        plan.dataset() == null
            ? null
            : DatasetReplay.read(
                plan.dataset(),
                users.tenant(),
                plan.untilStopped() ? Integer.MAX_VALUE : plan.events());
    try (LocalStack stack = listeners.apply(plan.stack(startKafka.get(), out)).start()) {
      announce(stack);
      TrainerService trainer = stack.trainer();
      String tenant = users.tenant();
      String model = trainer.config().modelName();
      Simulator simulator = new Simulator(users);
      ProductRun.Progress progress = new ProductRun.Progress();
      DemoLive live =
          new DemoLive(
                  out,
                  progress,
                  trainer,
                  stack.scorer(),
                  tenant,
                  model,
                  new Simulator(users.withSeed(users.seed() + 1)),
                  replayed == null ? plan.rankRate() : 0,
                  Duration.ofSeconds(5))
              .start();
      PoisonedCheckpoint poison = plan.poisoning() ? poison(stack) : null;
      Sent sent = send(stack.ingest(), simulator, new Simulator(users), replayed, poison, progress);
      Reconciled reconciled = reconcile(stack);
      awaitTrained(trainer, tenant, reconciled.trainPairs(), poison);
      live.close();
      out.println(live.line());
      Trained trained = stopTrainer(trainer, tenant, replayed == null ? simulator : null);
      DemoServing serving =
          DemoServing.report(
              stack.scorer(), tenant, model, replayed == null ? simulator : null, out);
      DatasetReplay.Judged judged = replayed == null ? null : replayed.judge(stack.scorer(), out);
      DemoSummary.Poisoned poisoned = poison == null ? null : poisonReport(poison, live);
      DemoSummary.Serving served =
          (judged == null ? serving.served() : judged.into(serving.served()))
              .withLive(live.ranked());
      DemoSummary summary =
          new DemoSummary(
              "pairs",
              plan.scenario(),
              replayed == null ? null : replayed.file().toString(),
              sent.events(),
              reconciled.pairs(trained.pairsTrained()),
              trainer.checkpointsWritten(),
              trained.accuracy(judged),
              trainer.config().model().type(),
              serving.rollouts(),
              poisoned,
              served,
              driftAlerts(stack.monitor()),
              reconciled.counts().deadLetters().values().stream().mapToLong(Long::longValue).sum(),
              sent.garbage() == null ? null : badInput(sent.garbage()),
              reconciled.counts().deadLetters(),
              reconciled.inKafka(),
              new DemoSummary.Lost(
                  sent.report().accepted() - reconciled.distinctEvents(),
                  reconciled.trainPairs() - trained.pairsTrained()),
              Math.round((System.nanoTime() - started) / 1e9 * 100) / 100.0);
      Optional<String> failed =
          stack.problem() != null
              ? Optional.of("the pipeline stopped: " + stack.problem())
              : failure(summary, sent.report().validRejected(), sent.report().unanswered());
      return new Result(summary, failed);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted", e);
    } catch (IOException e) {
      throw new UserError("demo: reading the checkpoint store failed: " + e.getMessage(), e);
    }
  }

  /** Where each service of the stack answers. */
  private void announce(LocalStack stack) {
    out.println("prefstream demo: Kafka broker (KRaft) at " + stack.kafka().bootstrapServers());
    out.println("prefstream demo: ingest API at " + stack.ingest().uri());
    out.println(
        "prefstream demo: pair builder (Flink job "
            + stack.pairBuilder().jobId()
            + ") on a local MiniCluster");
    out.println(
        "prefstream demo: trainer ("
            + stack.trainer().config().model().type()
            + ") checkpoints in "
            + stack.trainer().store());
    out.println("prefstream demo: scorer API at " + stack.scorer().uri());
    out.println("prefstream demo: drift monitor at " + stack.monitor().uri() + "/v1/drift");
    // The built-in demo key is no secret: the address carries it (in the fragment, which the
    // browser never sends). With keys of one's own, the page asks for one.
    boolean demoKey = ApiKeys.fromEnvironment(System.getenv()).isLocalDefault();
    out.println(
        "prefstream demo: dashboard at "
            + stack.monitor().uri()
            + "/"
            + (demoKey ? "#key=" + ApiKeys.DEMO_KEY : ""));
  }

  /** The poisoned-checkpoint scenario, started: it publishes once a champion serves. */
  private PoisonedCheckpoint poison(LocalStack stack) {
    LocalKafka kafka = stack.kafka();
    return new PoisonedCheckpoint(
            out,
            stack.trainer(),
            stack.scorer(),
            new KafkaClients(kafka.bootstrapServers(), Duration.ofSeconds(30)),
            kafka.topics(),
            plan.users(),
            kafka.dataDir().resolve("poisoned"))
        .start();
  }

  /**
   * What Kafka holds once the product has stopped: the feedback records and their distinct event
   * ids, and the pairs the drained pair builder wrote.
   */
  private record Reconciled(long feedbackRecords, long distinctEvents, PairCounts counts) {

    long trainPairs() {
      return counts.total() - counts.holdout();
    }

    DemoSummary.Pairs pairs(long trained) {
      return new DemoSummary.Pairs(
          counts.bySource(), counts.total(), counts.holdout(), trained, counts.revised());
    }

    DemoSummary.InKafka inKafka() {
      return new DemoSummary.InKafka(feedbackRecords, distinctEvents);
    }
  }

  /**
   * Reads the feedback topic back, waits for the pair builder to read every event, drains it (the
   * product has stopped: event time ends, so every interaction is final) and counts its pairs.
   */
  private Reconciled reconcile(LocalStack stack) throws InterruptedException {
    LocalKafka kafka = stack.kafka();
    LocalPairBuilder pairBuilder = stack.pairBuilder();
    Set<String> distinct = new HashSet<>();
    long records =
        new KafkaClients(kafka.bootstrapServers(), Duration.ofSeconds(30))
            .readCommitted(kafka.topics().feedback(), event -> distinct.add(event.getEventId()));
    if (!pairBuilder.awaitCaughtUp(Duration.ofMinutes(2))) {
      throw new UserError(
          pairBuilder.problem() != null
              ? "demo: " + pairBuilder.problem() + "; pairs were not built"
              : "demo: the pair builder did not read every event within 2 minutes (job "
                  + pairBuilder.status()
                  + ")");
    }
    pairBuilder.drain(kafka.dataDir().resolve("flink-savepoints"));
    PairCounts pairs = PairCounts.read(kafka.bootstrapServers(), kafka.topics());
    long explicit =
        pairs.bySource().getOrDefault("rating", 0L) + pairs.bySource().getOrDefault("thumb", 0L);
    out.printf(
        "pair builder: %d pairs (%d holdout) by source %s; %d of the %d rating and thumb pairs"
            + " revise an earlier one (emitted before a later rating reversed it)%n",
        pairs.total(), pairs.holdout(), pairs.bySource(), pairs.revised(), explicit);
    return new Reconciled(records, distinct.size(), pairs);
  }

  /** Waits for every TRAIN pair to be trained, and then for the poison's decision, if any. */
  private void awaitTrained(
      TrainerService trainer, String tenant, long trainPairs, PoisonedCheckpoint poison)
      throws InterruptedException {
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
  }

  /**
   * The trainer's final figures for the tenant, and its newest checkpoint's agreement with the
   * simulated users' true preferences (none for real data, which has no true utility).
   */
  private record Trained(OnlineTrainer.TenantStatus status, Optional<Double> agreement) {

    long pairsTrained() {
      return status == null ? 0 : status.pairsTrained();
    }

    DemoSummary.Accuracy accuracy(DatasetReplay.Judged judged) {
      return new DemoSummary.Accuracy(
          DemoSummary.Figure.of(status == null ? Double.NaN : status.prequentialAccuracy()),
          DemoSummary.Figure.of(status == null ? Double.NaN : status.holdoutAccuracy()),
          DemoSummary.Figure.of(agreement.orElse(Double.NaN)),
          judged == null ? null : DemoSummary.Figure.of(judged.chosenFirst()));
    }
  }

  /** Stops the trainer and judges what it trained; {@code simulator} is null for real data. */
  private Trained stopTrainer(TrainerService trainer, String tenant, Simulator simulator)
      throws IOException {
    OnlineTrainer.TenantStatus status = trainer.stop(Duration.ofMinutes(2)).get(tenant);
    Optional<Double> agreement =
        simulator == null || status == null || status.version() == 0
            ? Optional.empty() // real data has no true utility: judged on held-back pairs
            : TruePreference.agreement(
                new DirectoryCheckpointStore(trainer.store()),
                new CheckpointId(tenant, trainer.config().modelName(), status.version()),
                plan.users(),
                simulator.now(),
                2000);
    out.printf(
        "trainer: %d pairs trained, %d checkpoint(s), prequential accuracy %.3f, holdout %.3f%s%n",
        status == null ? 0 : status.pairsTrained(),
        trainer.checkpointsWritten(),
        status == null ? Double.NaN : status.prequentialAccuracy(),
        status == null ? Double.NaN : status.holdoutAccuracy(),
        agreement
            .map(a -> String.format(", agreement with the users' true preferences %.3f", a))
            .orElse(""));
    return new Trained(status, agreement);
  }

  /** The poison's figures, with the best-of-N answers the live product got from any of it. */
  private DemoSummary.Poisoned poisonReport(PoisonedCheckpoint poison, DemoLive live) {
    DemoSummary.Poisoned poisoned =
        poison.report(poison.versions().stream().mapToLong(live::servedBy).sum());
    out.printf(
        "poisoned checkpoint: v%d %s%s; largest traffic share %.0f%%, %d best-of-N answers"
            + " from it%n",
        poison.version(),
        poisoned.outcome(),
        poisoned.reason() != null ? " (" + poisoned.reason() + ")" : "",
        100 * poisoned.maxTrafficShare(),
        poisoned.servedBestOfN());
    poison.close();
    return poisoned;
  }

  /**
   * What the product sent and how it was answered.
   *
   * @param duplicates the resent events answered duplicate
   * @param garbage the bad-input scenario's garbage requests, or null
   */
  private record Sent(ProductRun.Report report, long duplicates, BadInput.Result garbage) {

    /** The summary's events: the resent ones count as sent, and as duplicates when answered so. */
    DemoSummary.Events events() {
      return new DemoSummary.Events(
          report.sent() + RESENT,
          report.accepted(),
          report.rejected(),
          report.duplicate() + duplicates,
          report.malformedSent());
    }
  }

  /** The product (or the dataset) sends, with the scenario's extras; then some events again. */
  private Sent send(
      IngestServer ingest,
      Simulator simulator,
      Simulator replay,
      DatasetReplay replayed,
      PoisonedCheckpoint poison,
      ProductRun.Progress progress)
      throws InterruptedException {
    boolean untilStopped = plan.untilStopped();
    out.println(
        untilStopped
            ? "prefstream demo: sending until Ctrl-C; then it drains, reconciles and sums up"
            : "prefstream demo: sending "
                + (replayed == null ? plan.events() + " events" : "the dataset")
                + "; Ctrl-C stops early, and the summary still follows");
    out.flush();
    try (FeedbackClient client = FeedbackClient.builder(ingest.uri(), "demo-key").build();
        CtrlC stop = CtrlC.install(out, "stopping the product; draining and summing up")) {
      BadInput bad = plan.badInput() ? BadInput.start(ingest.uri()) : null;
      ProductRun.Report report;
      if (replayed != null) {
        out.printf(
            "replaying %d pairs of %s as labeled-pair events (%d left out: too long or"
                + " unusable)%n",
            replayed.size(), replayed.file(), replayed.skipped());
        report = replayed.run(client, plan.rate(), progress, stop);
      } else {
        report =
            ProductRun.run(
                simulator,
                client,
                untilStopped ? Integer.MAX_VALUE : plan.events(),
                plan.rate(),
                progress,
                stop);
        if (poison != null && !untilStopped && !stop.getAsBoolean() && !poison.settled()) {
          report = report.plus(sendUntilJudged(poison, simulator, client, progress, stop));
        }
      }
      BadInput.Result garbage = null;
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
      long duplicates = replayed == null ? resend(replay, client) : replayed.resend(client, RESENT);
      out.printf(
          "sent the first %d valid events again: %d answered duplicate%n", RESENT, duplicates);
      return new Sent(report, duplicates, garbage);
    }
  }

  /**
   * The poison is judged on fresh holdout pairs, which come only while users send: the product
   * sends on past --events until it is decided, for at most {@link #JUDGING}.
   */
  private ProductRun.Report sendUntilJudged(
      PoisonedCheckpoint poison,
      Simulator simulator,
      FeedbackClient client,
      ProductRun.Progress progress,
      BooleanSupplier stop)
      throws InterruptedException {
    out.printf(
        "poisoned checkpoint: %s; the product keeps sending until it is judged (at most"
            + " %d s more)%n",
        poison.version() == 0 ? "not published yet" : "v" + poison.version() + " undecided",
        JUDGING.toSeconds());
    out.flush();
    long deadline = System.nanoTime() + JUDGING.toNanos();
    BooleanSupplier judged =
        () -> stop.getAsBoolean() || poison.settled() || System.nanoTime() > deadline;
    return ProductRun.run(simulator, client, Integer.MAX_VALUE, plan.rate(), progress, judged);
  }

  /**
   * Why a run with this summary failed, if it did: an accepted event not in Kafka (or there twice),
   * a TRAIN pair not trained, a valid event rejected, a request unanswered or answered with a
   * server error, or a poisoned checkpoint that was not rolled back.
   */
  static Optional<String> failure(DemoSummary s, long validRejected, long unanswered) {
    boolean serverErrors =
        s.badInput() != null && s.badInput().getOrDefault("server_errors", 0L) > 0;
    if (s.lost().events() != 0
        || s.lost().pairs() != 0
        || s.kafka().feedbackRecords() != s.kafka().distinctEventIds()
        || validRejected > 0
        || serverErrors
        || unanswered > 0) {
      return Optional.of(
          "demo: accepted "
              + s.events().accepted()
              + ", in Kafka "
              + s.kafka().feedbackRecords()
              + " records of "
              + s.kafka().distinctEventIds()
              + " distinct events; see above");
    }
    if (s.poisonedCheckpoint() != null && !s.poisonedCheckpoint().outcome().equals("rolled_back")) {
      return Optional.of(
          "demo: the poisoned checkpoint v"
              + s.poisonedCheckpoint().version()
              + " was "
              + s.poisonedCheckpoint().outcome()
              + ", not rolled back");
    }
    return Optional.empty();
  }

  /** The garbage requests' figures, in the summary's order: answers by status in between. */
  static Map<String, Long> badInput(BadInput.Result garbage) {
    Map<String, Long> figures = new LinkedHashMap<>();
    figures.put("garbage_requests", garbage.sent());
    garbage.byStatus().forEach((status, n) -> figures.put("answered_" + status, n));
    figures.put("closed_unanswered", (long) garbage.unanswered().size());
    figures.put("server_errors", (long) garbage.serverErrors().size());
    return figures;
  }

  /** The monitor's reports at WARN or ALERT now. */
  private static List<DemoSummary.DriftAlert> driftAlerts(MonitorServer monitor) {
    List<DemoSummary.DriftAlert> alerts = new ArrayList<>();
    for (var r : monitor.latest()) {
      if (r.getLevel() != AlertLevel.OK) {
        alerts.add(
            new DemoSummary.DriftAlert(
                r.getModel() + "/" + r.getMetric(),
                Math.round(r.getValue() * 10000) / 10000.0,
                r.getLevel() == AlertLevel.ALERT ? r.getAlertThreshold() : r.getWarnThreshold(),
                r.getLevel().name(),
                r.getWindowEnd().toString()));
      }
    }
    return alerts;
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
}
