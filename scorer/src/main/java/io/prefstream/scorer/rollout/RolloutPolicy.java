package io.prefstream.scorer.rollout;

import java.util.ArrayList;
import java.util.List;

/**
 * How a candidate is rolled out and judged.
 *
 * @param steps candidate traffic shares, in order; 0 is shadow, the last is 1 (promotion)
 * @param minPairs fresh pairs (any split) needed during a step before the next is taken
 * @param maxPairs fresh pairs after which a still undecided step is rolled back as inconclusive
 * @param tolerance non-inferiority margin: a step needs the always-valid lower bound on the
 *     accuracy difference at or above minus this
 * @param alpha error of each one-sided always-valid bound on the accuracy difference
 * @param minScoreSpread smallest standard deviation of the candidate's raw scores
 * @param maxPsi largest population-stability index of candidate vs champion normalised scores
 * @param follow whether, at the first step, a newer checkpoint descending from the candidate
 *     replaces it, so that the first step's arm serves the trainer's newest model; the step is then
 *     judged on the arm's versions together, each on the pairs fresh for it
 */
public record RolloutPolicy(
    List<Double> steps,
    int minPairs,
    int maxPairs,
    double tolerance,
    double alpha,
    double minScoreSpread,
    double maxPsi,
    boolean follow) {

  /**
   * A 1% canary that follows the trainer, then 5%, 25%, 50% and promotion: the newest checkpoint
   * serves a sliver of traffic within seconds, and more only on evidence.
   */
  public static final String DEFAULT_STEPS = "0.01,0.05,0.25,0.5,1";

  public RolloutPolicy {
    steps = List.copyOf(steps);
    if (steps.isEmpty() || steps.get(steps.size() - 1) != 1.0) {
      throw new IllegalArgumentException("rollout.steps must end with 1 (promotion), got " + steps);
    }
    for (int i = 0; i < steps.size(); i++) {
      double s = steps.get(i);
      if (!(s >= 0 && s <= 1) || (i > 0 && s <= steps.get(i - 1))) {
        throw new IllegalArgumentException(
            "rollout.steps must rise strictly within [0, 1], got " + steps);
      }
    }
    if (maxPairs < minPairs) {
      throw new IllegalArgumentException(
          "rollout.max-pairs (" + maxPairs + ") is below rollout.min-pairs (" + minPairs + ")");
    }
  }

  /** A policy whose first step follows the trainer. */
  public RolloutPolicy(
      List<Double> steps,
      int minPairs,
      int maxPairs,
      double tolerance,
      double alpha,
      double minScoreSpread,
      double maxPsi) {
    this(steps, minPairs, maxPairs, tolerance, alpha, minScoreSpread, maxPsi, true);
  }

  /**
   * Whether a candidate at {@code step} follows the trainer: every step but the last before
   * promotion, where the version to be promoted is fixed.
   */
  public boolean follows(int step) {
    return follow && step < steps.size() - 2;
  }

  /** Parses {@code rollout.steps}: comma-separated shares, e.g. {@code 0,0.05,0.25,0.5,1}. */
  public static List<Double> parseSteps(String spec) {
    List<Double> steps = new ArrayList<>();
    for (String part : spec.split(",")) {
      try {
        steps.add(Double.parseDouble(part.strip()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "rollout.steps must be comma-separated numbers, got '" + spec + "'");
      }
    }
    return steps;
  }

  public static RolloutPolicy defaults() {
    return new RolloutPolicy(parseSteps(DEFAULT_STEPS), 200, 5000, 0.02, 0.01, 1e-4, 0.5, true);
  }
}
