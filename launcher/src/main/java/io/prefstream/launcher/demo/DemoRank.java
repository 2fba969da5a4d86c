package io.prefstream.launcher.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.avro.Exposure;
import io.prefstream.http.ApiKeys;
import io.prefstream.schemas.JsonForm;
import io.prefstream.simulator.SimulatedEvent;
import io.prefstream.simulator.Simulator;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The best-of-N requests the demo's product makes to its scorer, as the demo tenant. */
final class DemoRank {

  /** A prompt and the distinct responses shown for it. */
  record Candidates(String prompt, List<String> responses) {}

  private DemoRank() {}

  /**
   * The prompt and distinct non-blank responses the simulator's next interaction shows; null when
   * it shows fewer than two.
   */
  static Candidates next(Simulator simulator) {
    String prompt = null;
    List<String> responses = new ArrayList<>();
    for (SimulatedEvent e : simulator.nextInteraction()) {
      if (!e.isMalformed() && e.event().getPayload() instanceof Exposure x) {
        prompt = x.getPrompt();
        if (!responses.contains(x.getResponse()) && !x.getResponse().isBlank()) {
          responses.add(x.getResponse());
        }
      }
    }
    return prompt == null || responses.size() < 2 ? null : new Candidates(prompt, responses);
  }

  /** {@code POST /v1/rank} of {@code responses} for {@code prompt}; {@code userId} may be null. */
  static HttpResponse<String> rank(
      HttpClient http, URI scorer, String prompt, List<String> responses, String userId)
      throws IOException, InterruptedException {
    ObjectNode body = JsonForm.mapper().createObjectNode();
    body.put("prompt", prompt);
    responses.forEach(body.putArray("responses")::add);
    if (userId != null) {
      body.put("user_id", userId);
    }
    return http.send(
        HttpRequest.newBuilder(scorer.resolve("/v1/rank"))
            .header("Authorization", "Bearer " + ApiKeys.DEMO_KEY)
            .header("Content-Type", "application/json")
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
