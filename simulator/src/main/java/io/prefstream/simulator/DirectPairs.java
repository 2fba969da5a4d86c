package io.prefstream.simulator;

import io.prefstream.avro.Exposure;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.LabeledPair;
import io.prefstream.avro.PairwiseChoice;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.SourceKind;
import io.prefstream.avro.Split;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The simulated product's pairwise choices and labeled pairs turned into {@link PreferencePair}s
 * directly, without the Flink pair builder: for tests and benchmarks of the stages after it (the
 * trainer, the scorer), which need realistic pairs with a known truth but not the whole pipeline.
 * The split is HOLDOUT for every {@code holdoutEvery}-th interaction, like the pair builder's
 * stable share.
 */
public final class DirectPairs {

  private final Simulator simulator;
  private final int holdoutEvery;
  private long interactions;

  public DirectPairs(Simulator simulator, int holdoutEvery) {
    this.simulator = simulator;
    this.holdoutEvery = holdoutEvery;
  }

  /**
   * The first {@code n} (at least) pairs of a simulated product whose users are {@code tenant}'s,
   * seeded with {@code seed}, from 2026-01-01: the pairs tests train and judge on.
   */
  public static List<PreferencePair> simulated(String tenant, long seed, int n, int holdoutEvery) {
    Simulator simulator =
        new Simulator(
            SimulatorConfig.builder(java.time.Instant.parse("2026-01-01T00:00:00Z"))
                .optTenant(tenant)
                .optSeed(seed)
                .build());
    return new DirectPairs(simulator, holdoutEvery).next(n);
  }

  /** At least {@code n} pairs from the next interactions, in event-time order. */
  public List<PreferencePair> next(int n) {
    List<PreferencePair> out = new ArrayList<>(n + 8);
    while (out.size() < n) {
      Split split = ++interactions % holdoutEvery == 0 ? Split.HOLDOUT : Split.TRAIN;
      Map<String, Exposure> exposures = new HashMap<>();
      for (SimulatedEvent s : simulator.nextInteraction()) {
        if (s.isMalformed()) {
          continue;
        }
        FeedbackEvent e = s.event();
        if (e.getPayload() instanceof Exposure x) {
          exposures.put(x.getResponseId(), x);
        } else if (e.getPayload() instanceof PairwiseChoice c && !c.getTie()) {
          Exposure chosen = exposures.get(c.getChosenResponseId());
          Exposure rejected = exposures.get(c.getRejectedResponseId());
          if (chosen != null
              && rejected != null
              && !chosen.getResponse().equals(rejected.getResponse())) {
            out.add(
                pair(
                    e,
                    chosen.getPrompt(),
                    chosen.getResponse(),
                    rejected.getResponse(),
                    c.getStrength(),
                    SourceKind.PAIRWISE_CHOICE,
                    split));
          }
        } else if (e.getPayload() instanceof LabeledPair l) {
          out.add(
              pair(
                  e,
                  l.getPrompt(),
                  l.getChosen(),
                  l.getRejected(),
                  l.getConfidence(),
                  SourceKind.LABELED_PAIR,
                  split));
        }
      }
    }
    return out;
  }

  private static PreferencePair pair(
      FeedbackEvent e,
      String prompt,
      String chosen,
      String rejected,
      double weight,
      SourceKind source,
      Split split) {
    return PreferencePair.newBuilder()
        .setPairId("direct-" + e.getEventId())
        .setTenantId(e.getTenantId())
        .setPrompt(prompt)
        .setChosen(chosen)
        .setRejected(rejected)
        .setWeight(weight)
        .setSplit(split)
        .setSource(source)
        .setInteractionId(e.getInteractionId())
        .setEventIds(List.of(e.getEventId()))
        .setEventTime(e.getOccurredAt())
        .build();
  }
}
