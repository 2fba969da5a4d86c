package io.prefstream.launcher.demo;

import com.fasterxml.jackson.databind.JsonNode;
import io.prefstream.avro.RolloutAction;
import io.prefstream.avro.RolloutDecision;
import io.prefstream.avro.RolloutState;
import io.prefstream.schemas.JsonForm;
import io.prefstream.scorer.Registry;
import io.prefstream.scorer.ScorerServer;
import io.prefstream.simulator.Simulator;
import java.io.PrintWriter;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What the demo's scorer did: the rollout decisions it made, and best-of-N over HTTP on fresh
 * interactions of the simulated product, judged by the users' true utility.
 *
 * @param rollouts promoted and rolled-back counts, reasons, and the champion
 * @param served best-of-N figures
 */
record DemoServing(DemoSummary.Rollouts rollouts, DemoSummary.Serving served) {

  private static final int INTERACTIONS = 50;

  /**
   * @param simulator the product whose fresh interactions best-of-N is judged on; null for a
   *     dataset replay (rollouts only)
   */
  static DemoServing report(
      ScorerServer scorer, String tenant, String model, Simulator simulator, PrintWriter out)
      throws InterruptedException {
    String key = Registry.key(tenant, model);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      var route = scorer.serving().route(key);
      if (route != null && route.champion() != null) {
        break;
      }
      Thread.sleep(100);
    }
    RolloutState state = scorer.registryFollower().rollout(key);
    long promoted = 0;
    long rolledBack = 0;
    List<String> reasons = new ArrayList<>();
    if (state != null) {
      for (RolloutDecision d : state.getHistory()) {
        promoted += d.getAction() == RolloutAction.PROMOTE ? 1 : 0;
        if (d.getAction() == RolloutAction.ROLLBACK) {
          rolledBack++;
          reasons.add("v" + d.getVersion() + ": " + d.getReason());
        }
      }
    }
    DemoSummary.Rollouts rollouts =
        new DemoSummary.Rollouts(
            List.copyOf(reasons),
            promoted,
            rolledBack,
            state == null || state.getChampionVersion() == null ? 0 : state.getChampionVersion(),
            state == null || state.getCandidateVersion() == null ? 0 : state.getCandidateVersion(),
            state == null ? "NONE" : state.getPhase().name());
    if (simulator == null) { // a dataset replay: judged on its held-back pairs instead
      out.printf(
          "scorer: champion v%d (%d promoted, %d rolled back, phase %s)%n",
          rollouts.champion(), promoted, rolledBack, rollouts.phase());
      return new DemoServing(rollouts, DemoSummary.Serving.none());
    }
    HttpClient http = HttpClient.newHttpClient();
    int asked = 0;
    int trulyBest = 0;
    double chance = 0;
    long version = 0;
    for (int i = 0; i < 10 * INTERACTIONS && asked < INTERACTIONS; i++) {
      Instant at = simulator.now();
      DemoRank.Candidates c = DemoRank.next(simulator);
      if (c == null) {
        continue;
      }
      String prompt = c.prompt();
      List<String> responses = c.responses();
      JsonNode answer;
      try {
        HttpResponse<String> r =
            DemoRank.rank(http, scorer.uri(), prompt, responses, "demo-user-" + i);
        if (r.statusCode() != 200) {
          out.println("scorer: /v1/rank answered " + r.statusCode() + " " + r.body());
          break;
        }
        answer = JsonForm.mapper().readTree(r.body());
      } catch (java.io.IOException e) {
        out.println("scorer: /v1/rank failed: " + e.getMessage());
        break;
      }
      asked++;
      version = answer.get("version").asLong();
      int best = answer.get("best").asInt();
      double bestUtility = Double.NEGATIVE_INFINITY;
      for (String response : responses) {
        bestUtility = Math.max(bestUtility, simulator.trueUtility(prompt, response, at));
      }
      trulyBest += simulator.trueUtility(prompt, responses.get(best), at) >= bestUtility ? 1 : 0;
      chance += 1.0 / responses.size();
    }
    DemoSummary.Serving served =
        new DemoSummary.Serving(
            asked,
            version,
            asked > 0 ? Math.round(1000.0 * trulyBest / asked) / 1000.0 : null,
            asked > 0 ? Math.round(1000.0 * chance / asked) / 1000.0 : null,
            null,
            null,
            null);
    out.printf(
        "scorer: champion v%d (%d promoted, %d rolled back, phase %s); best-of-N over HTTP picked"
            + " the truly best response in %d of %d fresh interactions (%.0f%% by chance)%n",
        rollouts.champion(),
        promoted,
        rolledBack,
        rollouts.phase(),
        trulyBest,
        asked,
        asked == 0 ? 0 : 100 * chance / asked);
    return new DemoServing(rollouts, served);
  }
}
