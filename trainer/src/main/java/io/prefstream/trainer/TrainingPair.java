package io.prefstream.trainer;

import io.prefstream.avro.PreferencePair;
import io.prefstream.model.Candidate;

/**
 * One preference as the learner sees it: the chosen response should score above the rejected one by
 * at least {@code margin}, with importance {@code weight}.
 */
public record TrainingPair(
    String prompt, String chosen, String rejected, double weight, double margin) {

  public static TrainingPair of(PreferencePair pair) {
    return new TrainingPair(
        pair.getPrompt(), pair.getChosen(), pair.getRejected(), pair.getWeight(), pair.getMargin());
  }

  public static TrainingPair unweighted(String prompt, String chosen, String rejected) {
    return new TrainingPair(prompt, chosen, rejected, 1.0, 0.0);
  }

  /** Whether weight and margin are finite and non-negative (Avro does not enforce it). */
  public boolean valid() {
    return Double.isFinite(weight) && weight >= 0 && Double.isFinite(margin) && margin >= 0;
  }

  public Candidate chosenCandidate() {
    return new Candidate(prompt, chosen);
  }

  public Candidate rejectedCandidate() {
    return new Candidate(prompt, rejected);
  }
}
