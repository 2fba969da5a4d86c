package io.prefstream.launcher.bench;

import io.prefstream.avro.Split;
import io.prefstream.config.Settings;
import io.prefstream.http.ApiKeys;
import io.prefstream.ingest.EventStatus;
import io.prefstream.ingest.FeedbackClient;
import io.prefstream.ingest.IngestServer;
import io.prefstream.launcher.UserError;
import io.prefstream.launcher.stack.LocalStack;
import io.prefstream.launcher.stack.ServiceKind;
import io.prefstream.local.LocalKafka;
import io.prefstream.schemas.Topics;
import io.prefstream.scorer.Registry;
import io.prefstream.simulator.SimulatedEvent;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import io.prefstream.trainer.TrainerService;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bench freshness}: how long after ingest accepts a feedback event a checkpoint trained on
 * it is served (as champion, or on the candidate's arm), over every event that became a TRAIN pair;
 * beside the time for the same events to reach {@code prefstream.pairs} alone, so the ratio shows
 * what training, checkpointing and loading add. The whole local stack runs in this process with
 * default settings unless {@code --set} changes them.
 */
@Command(
    name = "freshness",
    mixinStandardHelpOptions = true,
    description =
        "Time from a feedback event accepted to a checkpoint trained on it being served, p50/p99,"
            + " beside the time to reach prefstream.pairs.")
public final class BenchFreshnessCommand implements Runnable {

  @Option(
      names = "--seconds",
      defaultValue = "60",
      description =
          "Seconds of events measured: those accepted after the warm-up and before the tail."
              + " Default: ${DEFAULT-VALUE}.")
  int seconds;

  @Option(
      names = "--warm-up",
      defaultValue = "20",
      description =
          "Seconds of traffic before measured events (the first checkpoint is promoted at once,"
              + " with nothing to compare). Default: ${DEFAULT-VALUE}.")
  int warmUp;

  @Option(
      names = "--tail",
      defaultValue = "60",
      description =
          "Seconds the product keeps sending after the measured events, so the checkpoints that"
              + " trained on them are rolled out on fresh pairs as in a running product. An event"
              + " not served by then counts as not served. Default: ${DEFAULT-VALUE}.")
  int tail;

  @Option(
      names = "--rate",
      defaultValue = "200",
      description = "Feedback events per second. Default: ${DEFAULT-VALUE}.")
  double rate;

  @Option(
      names = "--set",
      description =
          "A pairs.*, trainer.*, model.*, scorer.* or rollout.* setting, KEY=VALUE (repeatable),"
              + " e.g. trainer.checkpoint-interval=5s.")
  Map<String, String> settings = new HashMap<>();

  @Spec CommandSpec spec;

  /** An event whose pair no served checkpoint covered before the run ended. */
  private static final long CENSORED = Long.MAX_VALUE; // the largest: min() prefers any served

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    Topics topics = Topics.withPrefix("fresh-" + UUID.randomUUID().toString().substring(0, 8));
    Map<String, Long> accepted = new ConcurrentHashMap<>();
    FreshnessWatch watch = new FreshnessWatch();
    long t0 = System.nanoTime();
    try (LocalStack stack = stack(topics, out).start()) {
      TrainerService trainer = stack.trainer();
      watch.start(
          stack.kafka().bootstrapServers(),
          topics,
          stack.scorer(),
          Registry.key(ApiKeys.DEMO_TENANT, trainer.config().modelName()));
      out.printf(
          "bench freshness: the simulated product sends %.0f events/s for %d s; events accepted"
              + " from %d s to %d s are measured (trainer checkpoint interval %s)%n",
          rate,
          warmUp + seconds + tail,
          warmUp,
          warmUp + seconds,
          trainer.config().checkpointInterval());
      long from = System.nanoTime() + Duration.ofSeconds(warmUp).toNanos();
      long to = from + Duration.ofSeconds(seconds).toNanos();
      send(stack.ingest(), accepted, warmUp + seconds + tail);
      accepted.values().removeIf(at -> at < from || at >= to); // only the measured window
      watch.stop();
      watch.printVersions(out, t0);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted", e);
    }
    // After the stack has stopped, so that its shutdown does not print after the figures.
    breakdown(out, watch);
    report(out, accepted, watch);
  }

  /** The stack the bench runs: ingest, pair builder, trainer and scorer, on free ports. */
  private LocalStack.Builder stack(Topics topics, PrintWriter out) {
    Settings overrides = Settings.of(settings);
    LocalStack.Builder plan =
        LocalStack.builder(LocalKafka.builder().optPort(0).optTopics(topics).build().start())
            .optServices(
                ServiceKind.INGEST,
                ServiceKind.PAIR_BUILDER,
                ServiceKind.TRAINER,
                ServiceKind.SCORER)
            .optPort(ServiceKind.INGEST, 0)
            .optPort(ServiceKind.SCORER, 0)
            .optOut(out);
    for (ServiceKind kind : ServiceKind.values()) {
      plan.optDefaults(kind, overrides);
    }
    return plan;
  }

  private void send(IngestServer ingest, Map<String, Long> accepted, int total)
      throws InterruptedException {
    // Event time follows the wall clock: one interaction (about six events) per 6 / rate s.
    Simulator simulator =
        new Simulator(
            SimulatorConfig.builder(Instant.now())
                .optStep(Duration.ofMillis((long) (6000 / rate)))
                .build());
    try (FeedbackClient client =
        FeedbackClient.builder(ingest.uri(), ApiKeys.DEMO_KEY)
            .optLinger(Duration.ofMillis(5))
            .build()) {
      long started = System.nanoTime();
      long end = started + Duration.ofSeconds(total).toNanos();
      long count = 0;
      while (System.nanoTime() < end) {
        for (SimulatedEvent e : simulator.nextInteraction()) {
          count++;
          String id = e.event().getEventId();
          client
              .send(e.event())
              .whenComplete(
                  (r, error) -> {
                    if (error == null && r.status() == EventStatus.ACCEPTED) {
                      accepted.put(id, System.nanoTime());
                    }
                  });
        }
        long wait = started + (long) (count / rate * 1e9) - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000);
        }
      }
      client.flush();
    }
  }

  /** Where the time goes, per TRAIN pair: to the first checkpoint that covers it, then served. */
  private static void breakdown(PrintWriter out, FreshnessWatch watch) {
    List<Long> toCheckpoint = new ArrayList<>();
    List<Long> toServed = new ArrayList<>();
    TreeMap<Long, Map<Integer, Long>> byVersion = new TreeMap<>(watch.covered);
    List<FreshnessWatch.Pair> train = watch.trainPairs();
    for (FreshnessWatch.Pair p : train) {
      for (Map.Entry<Long, Map<Integer, Long>> c : byVersion.entrySet()) {
        if (c.getValue().getOrDefault(p.partition(), 0L) > p.offset()) {
          toCheckpoint.add((watch.announcedAt.get(c.getKey()) - p.seenAt()) / 1_000_000);
          break;
        }
      }
      long served = watch.servedTime(p);
      if (served != Long.MAX_VALUE) {
        toServed.add((served - p.seenAt()) / 1_000_000);
      }
    }
    long[] a = toCheckpoint.stream().mapToLong(Long::longValue).sorted().toArray();
    long[] b = toServed.stream().mapToLong(Long::longValue).sorted().toArray();
    out.printf(
        "whole run: pair -> first checkpoint trained through it p50 %.1f s; pair -> served p50"
            + " %.1f s (%d of %d TRAIN pairs served)%n",
        Bench.percentile(a, 0.5) / 1000, Bench.percentile(b, 0.5) / 1000, b.length, train.size());
  }

  private void report(PrintWriter out, Map<String, Long> accepted, FreshnessWatch watch) {
    Map<String, Long> toPair = new HashMap<>();
    Map<String, Long> toServed = new HashMap<>();
    for (FreshnessWatch.Pair p : watch.trainPairs()) { // HOLDOUT pairs are never trained
      long served = watch.servedTime(p);
      for (String id : p.events()) {
        Long at = accepted.get(id);
        if (at != null) {
          toPair.merge(id, p.seenAt() - at, Math::min);
          // Not served by the end of the run: censored at the run's end (a lower bound).
          toServed.merge(id, served == Long.MAX_VALUE ? CENSORED : served - at, Math::min);
        }
      }
    }
    long censored = toServed.values().stream().filter(v -> v == CENSORED).count();
    long[] fresh =
        toServed.values().stream()
            .mapToLong(v -> v == CENSORED ? CENSORED : Math.max(0, v) / 1_000_000)
            .sorted()
            .toArray();
    long[] base =
        toPair.values().stream().mapToLong(v -> Math.max(0, v) / 1_000_000).sorted().toArray();
    if (fresh.length == 0 || censored == fresh.length) {
      throw new UserError(
          "bench freshness: no event was served within the run ("
              + watch.pairs.size()
              + " pairs, "
              + watch.covered.size()
              + " checkpoints, "
              + watch.servedAt.size()
              + " versions served); run longer (--seconds)");
    }
    double p50 = Bench.percentile(fresh, 0.5);
    double p99 = Bench.percentile(fresh, 0.99);
    double b50 = Bench.percentile(base, 0.5);
    double b99 = Bench.percentile(base, 0.99);
    out.printf(
        "%,d events accepted; %,d of them in TRAIN pairs (%,d pairs); %,d checkpoints announced,"
            + " %d versions served; %,d events (%.0f%%) not served by a checkpoint before the run"
            + " ended%n",
        accepted.size(),
        toPair.size(),
        watch.pairs.size(),
        watch.covered.size(),
        watch.servedAt.size(),
        censored,
        100.0 * censored / toServed.size());
    out.printf(
        "accepted -> pair in prefstream.pairs:   p50 %6.1f s   p99 %6.1f s%n",
        b50 / 1000, b99 / 1000);
    out.printf(
        "accepted -> served by a checkpoint:    p50 %s   p99 %s%n", seconds(p50), seconds(p99));
    Map<String, Long> bySource = bySource(out, accepted, watch);
    // More than half not served within the run: no p50 to give (-1), see not_served.
    BenchLine figures =
        BenchLine.of(
            "freshness", p50 == Long.MAX_VALUE ? -1 : p50, "ms", "accepted_to_pairs_p50", b50);
    figures.with("p99_ms", p99 == Long.MAX_VALUE ? -1 : Math.round(p99));
    figures.with("not_served", censored);
    figures.with("baseline_p99_ms", Math.round(b99));
    figures.with("events", toServed.size());
    figures.with("checkpoints", watch.covered.size());
    figures.with("rate", rate);
    figures.with("seconds", seconds);
    figures.with("pair_p50_ms_by_source", bySource);
    figures.with("settings", new TreeMap<>(settings));
    out.println(figures);
    out.flush();
  }

  /**
   * Per source kind, the time from the last of a pair's events to be accepted (the one that
   * completed it) to the pair in the topic, and to its being served (TRAIN pairs); only pairs all
   * of whose events were accepted in the measured window. Returns the pair p50s in ms.
   */
  private static Map<String, Long> bySource(
      PrintWriter out, Map<String, Long> accepted, FreshnessWatch watch) {
    Map<String, List<Long>> toPair = new TreeMap<>();
    Map<String, List<Long>> toServed = new TreeMap<>();
    for (FreshnessWatch.Pair p : watch.pairs) {
      long last = Long.MIN_VALUE;
      boolean all = true;
      for (String id : p.events()) {
        Long at = accepted.get(id);
        if (at == null) {
          all = false;
          break;
        }
        last = Math.max(last, at);
      }
      if (!all) {
        continue;
      }
      String kind = p.source().name().toLowerCase(java.util.Locale.ROOT);
      toPair.computeIfAbsent(kind, k -> new ArrayList<>()).add((p.seenAt() - last) / 1_000_000);
      long served = p.split() == Split.TRAIN ? watch.servedTime(p) : Long.MAX_VALUE;
      if (served != Long.MAX_VALUE) {
        toServed.computeIfAbsent(kind, k -> new ArrayList<>()).add((served - last) / 1_000_000);
      }
    }
    Map<String, Long> p50s = new TreeMap<>();
    out.println("by source kind, from the event that completed the pair:");
    for (var e : toPair.entrySet()) {
      long[] a = e.getValue().stream().mapToLong(v -> Math.max(0, v)).sorted().toArray();
      long[] b =
          toServed.getOrDefault(e.getKey(), List.of()).stream()
              .mapToLong(v -> Math.max(0, v))
              .sorted()
              .toArray();
      double pairP50 = Bench.percentile(a, 0.5);
      p50s.put(e.getKey(), Math.round(pairP50));
      out.printf(
          "  %-16s %6d pairs: -> pair p50 %6.1f s, p99 %6.1f s; -> served p50 %s (%d served)%n",
          e.getKey(),
          a.length,
          pairP50 / 1000,
          Bench.percentile(a, 0.99) / 1000,
          b.length == 0 ? "   -  " : String.format("%6.1f s", Bench.percentile(b, 0.5) / 1000),
          b.length);
    }
    return p50s;
  }

  private static String seconds(double ms) {
    return ms == Long.MAX_VALUE ? "not served in the run" : String.format("%6.1f s", ms / 1000);
  }
}
