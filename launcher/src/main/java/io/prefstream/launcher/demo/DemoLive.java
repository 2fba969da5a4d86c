package io.prefstream.launcher.demo;

import com.fasterxml.jackson.databind.JsonNode;
import io.prefstream.avro.RolloutState;
import io.prefstream.schemas.JsonForm;
import io.prefstream.scorer.Registry;
import io.prefstream.scorer.ScorerServer;
import io.prefstream.simulator.ProductRun;
import io.prefstream.simulator.Simulator;
import io.prefstream.trainer.TrainerService;
import java.io.PrintWriter;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What goes on beside the demo's feedback traffic: the product asks the scorer for best-of-N on its
 * own interactions (as a product serving users would, so the canary gets traffic and the monitor
 * sees served scores), and a progress line shows every few seconds what the system has done so far.
 */
final class DemoLive implements AutoCloseable {

  private final PrintWriter out;
  private final ProductRun.Progress progress;
  private final TrainerService trainer;
  private final ScorerServer scorer;
  private final String tenant;
  private final String key;
  private final Simulator asking;
  private final double rankRate;
  private final long started = System.nanoTime();
  private final AtomicLong ranked = new AtomicLong();
  private final Map<Long, AtomicLong> byVersion = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> byArm = new ConcurrentHashMap<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private final Thread ranker;
  private final Thread reporter;
  private volatile boolean stopped;

  /**
   * @param asking the simulated product whose interactions are ranked (its own seed, so the
   *     feedback run is unchanged)
   * @param rankRate best-of-N requests per second (0: none)
   * @param every how often a progress line is printed
   */
  DemoLive(
      PrintWriter out,
      ProductRun.Progress progress,
      TrainerService trainer,
      ScorerServer scorer,
      String tenant,
      String model,
      Simulator asking,
      double rankRate,
      Duration every) {
    this.out = out;
    this.progress = progress;
    this.trainer = trainer;
    this.scorer = scorer;
    this.tenant = tenant;
    this.key = Registry.key(tenant, model);
    this.asking = asking;
    this.rankRate = rankRate;
    this.ranker = new Thread(this::rankLoop, "demo-best-of-n");
    this.reporter = new Thread(() -> reportLoop(every), "demo-progress");
    ranker.setDaemon(true);
    reporter.setDaemon(true);
  }

  DemoLive start() {
    if (rankRate > 0) {
      ranker.start();
    }
    reporter.start();
    return this;
  }

  /** Best-of-N answers the product got from one model version. */
  long servedBy(long version) {
    AtomicLong n = byVersion.get(version);
    return n == null ? 0 : n.get();
  }

  long ranked() {
    return ranked.get();
  }

  private void rankLoop() {
    long period = (long) (1e9 / rankRate);
    long next = System.nanoTime();
    while (!stopped) {
      try {
        rankOne();
        next += period;
        long wait = next - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        } else {
          next = System.nanoTime(); // behind: do not burst to catch up
        }
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        // The scorer has no champion yet (503) or is busy (429): the product serves its default.
      }
    }
  }

  private void rankOne() throws Exception {
    DemoRank.Candidates c = DemoRank.next(asking);
    if (c == null) {
      return;
    }
    HttpResponse<String> r =
        DemoRank.rank(
            http, scorer.uri(), c.prompt(), c.responses(), "live-user-" + ranked.get() % 500);
    if (r.statusCode() == 200) {
      JsonNode answer = JsonForm.mapper().readTree(r.body());
      ranked.incrementAndGet();
      byVersion
          .computeIfAbsent(answer.path("version").asLong(), v -> new AtomicLong())
          .incrementAndGet();
      byArm
          .computeIfAbsent(answer.path("arm").asText("?"), a -> new AtomicLong())
          .incrementAndGet();
    }
  }

  private void reportLoop(Duration every) {
    while (!stopped) {
      try {
        Thread.sleep(every.toMillis());
      } catch (InterruptedException e) {
        return;
      }
      if (!stopped) {
        out.println(line());
        out.flush();
      }
    }
  }

  /** One progress line: events, training, checkpoints, serving. */
  String line() {
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            "[%4ds] events %,d sent: %,d accepted, %,d rejected",
            (System.nanoTime() - started) / 1_000_000_000L,
            progress.sent(),
            progress.accepted(),
            progress.rejected()));
    var status = trainer.status().get(tenant);
    if (status != null) {
      s.append(
          String.format(
              " · trained %,d pairs, prequential %.3f",
              status.pairsTrained(), status.prequentialAccuracy()));
      if (Double.isFinite(status.holdoutAccuracy())) {
        s.append(String.format(", holdout %.3f", status.holdoutAccuracy()));
      }
    } else {
      s.append(" · no pairs trained yet");
    }
    s.append(" · checkpoints ").append(trainer.checkpointsWritten());
    RolloutState r = scorer.registryFollower().rollout(key);
    if (r != null && r.getChampionVersion() != null) {
      s.append(" · serving v").append(r.getChampionVersion());
      if (r.getCandidateVersion() != null) {
        s.append(
            String.format(
                ", v%d %s at %.0f%%",
                r.getCandidateVersion(), r.getPhase(), 100 * r.getCandidateWeight()));
      }
    }
    if (ranked.get() > 0) {
      s.append(" · best-of-N ").append(ranked.get()).append(" ").append(byArm);
    }
    return s.toString();
  }

  @Override
  public void close() {
    stopped = true;
    ranker.interrupt();
    reporter.interrupt();
    try {
      ranker.join(10_000);
      reporter.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
