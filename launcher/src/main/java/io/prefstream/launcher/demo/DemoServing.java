package io.prefstream.launcher.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.List;

/**
 * What the demo's scorer did: the rollout decisions it made, and best-of-N over HTTP on fresh
 * interactions of the simulated product, judged by the users' true utility.
 *
 * @param rollouts promoted and rolled-back counts, reasons, and the champion
 * @param served best-of-N figures
 */
record DemoServing(ObjectNode rollouts, ObjectNode served) {

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
    ObjectNode rollouts = JsonForm.mapper().createObjectNode();
    RolloutState state = scorer.registryFollower().rollout(key);
    long promoted = 0;
    long rolledBack = 0;
    var reasons = rollouts.putArray("reasons");
    if (state != null) {
      for (RolloutDecision d : state.getHistory()) {
        promoted += d.getAction() == RolloutAction.PROMOTE ? 1 : 0;
        if (d.getAction() == RolloutAction.ROLLBACK) {
          rolledBack++;
          reasons.add("v" + d.getVersion() + ": " + d.getReason());
        }
      }
    }
    rollouts.put("promoted", promoted);
    rollouts.put("rolled_back", rolledBack);
    rollouts.put(
        "champion",
        state == null || state.getChampionVersion() == null ? 0 : state.getChampionVersion());
    rollouts.put(
        "candidate",
        state == null || state.getCandidateVersion() == null ? 0 : state.getCandidateVersion());
    rollouts.put("phase", state == null ? "NONE" : state.getPhase().name());

    ObjectNode served = JsonForm.mapper().createObjectNode();
    if (simulator == null) { // a dataset replay: judged on its held-back pairs instead
      out.printf(
          "scorer: champion v%d (%d promoted, %d rolled back, phase %s)%n",
          rollouts.get("champion").asLong(), promoted, rolledBack, rollouts.get("phase").asText());
      return new DemoServing(rollouts, served);
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
    served.put("best_of_n_requests", asked);
    served.put("version", version);
    if (asked > 0) {
      served.put("best_of_n_truly_best", Math.round(1000.0 * trulyBest / asked) / 1000.0);
      served.put("best_of_n_by_chance", Math.round(1000.0 * chance / asked) / 1000.0);
    }
    out.printf(
        "scorer: champion v%d (%d promoted, %d rolled back, phase %s); best-of-N over HTTP picked"
            + " the truly best response in %d of %d fresh interactions (%.0f%% by chance)%n",
        rollouts.get("champion").asLong(),
        promoted,
        rolledBack,
        rollouts.get("phase").asText(),
        trulyBest,
        asked,
        asked == 0 ? 0 : 100 * chance / asked);
    return new DemoServing(rollouts, served);
  }
}
