package io.prefstream.model.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The sequence's guarantees by simulation: rollouts of a candidate against a champion, the sequence
 * looked at after every pair (the controller looks that often), stopped at the first verdict or at
 * a cap. Each pair: the two models disagree on 30% of pairs (differences of ±1), agree otherwise
 * (0), as reward models of similar accuracy do.
 */
class PairedConfidenceSequenceTest {

  private static final int ROLLOUTS = 10_000;
  private static final int CAP = 5_000;
  private static final double DISAGREE = 0.3;
  private static final long HORIZON = 2000;

  /**
   * One rollout's end: -1 worse (upper bound below 0), +1 not worse beyond the margin, 0 capped.
   */
  private record End(int verdict, int pairs) {}

  private static End rollout(
      SplittableRandom random, double meanDifference, double alpha, double margin) {
    return rollout(random, meanDifference, DISAGREE, alpha, margin);
  }

  /** A rollout where the models disagree on {@code disagree} of pairs. */
  private static End rollout(
      SplittableRandom random,
      double meanDifference,
      double disagree,
      double alpha,
      double margin) {
    PairedConfidenceSequence cs = new PairedConfidenceSequence(alpha, HORIZON);
    double up = disagree / 2 + meanDifference / 2;
    for (int t = 1; t <= CAP; t++) {
      double u = random.nextDouble();
      cs.add(u < up ? 1 : u < disagree ? -1 : 0);
      if (cs.upper() < 0) {
        return new End(-1, t);
      }
      if (cs.lower() > -margin) {
        return new End(1, t);
      }
    }
    return new End(0, CAP);
  }

  private static int median(int[] pairs, int count) {
    int[] sorted = Arrays.copyOf(pairs, count);
    Arrays.sort(sorted);
    return count == 0 ? -1 : sorted[count / 2];
  }

  /**
   * A candidate as good as its champion, looked at after every pair up to 5,000: it is judged worse
   * in at most alpha of 10,000 rollouts (alpha 0.01 here, the default rollout.alpha).
   */
  @Test
  void aCandidateAsGoodAsTheChampionIsRarelyJudgedWorseHoweverOftenItIsLookedAt() {
    SplittableRandom random = new SplittableRandom(20261204L);
    int worse = 0;
    int notWorse = 0;
    int[] pairs = new int[ROLLOUTS];
    for (int r = 0; r < ROLLOUTS; r++) {
      // No early stop on "not worse" here: every look until the cap is a chance to err.
      PairedConfidenceSequence cs = new PairedConfidenceSequence(0.01, HORIZON);
      for (int t = 1; t <= CAP; t++) {
        double u = random.nextDouble();
        cs.add(u < DISAGREE / 2 ? 1 : u < DISAGREE ? -1 : 0);
        if (cs.upper() < 0) {
          worse++;
          break;
        }
      }
      End end = rollout(random, 0, 0.01, 0.02);
      if (end.verdict() == 1) {
        pairs[notWorse++] = end.pairs();
      }
    }
    double falseAlarms = (double) worse / ROLLOUTS;
    System.out.printf(
        "equal candidate: judged worse in %d of %d rollouts (%.4f, alpha 0.01) over %d looks each;"
            + " judged not worse beyond 0.02 in %d, median %d pairs%n",
        worse, ROLLOUTS, falseAlarms, CAP, notWorse, median(pairs, notWorse));
    assertThat(falseAlarms).isLessThanOrEqualTo(0.01);
  }

  /**
   * A following arm: its version changes every 250 pairs (a checkpoint every 5 s at 50 pairs/s), so
   * the pairs' conditional means and variances change over the rollout. Every version as good as
   * the champion but agreeing with it more or less (10% or 40% disagreement, alternating), or
   * versions alternately 2 points better and 2 points worse starting better (the running average of
   * their means never below 0): judged worse in at most alpha of 10,000 rollouts each, looked at
   * after every pair. The sequence bounds the running average of the conditional means.
   */
  @Test
  void anArmWhoseVersionChangesKeepsTheFalseRollbackRateWithinAlpha() {
    SplittableRandom random = new SplittableRandom(20261205L);
    int[] worse = new int[2];
    for (int r = 0; r < ROLLOUTS; r++) {
      for (int c = 0; c < 2; c++) {
        PairedConfidenceSequence cs = new PairedConfidenceSequence(0.01, HORIZON);
        for (int t = 0; t < CAP; t++) {
          boolean odd = (t / 250) % 2 == 1;
          double disagree = c == 0 ? (odd ? 0.4 : 0.1) : DISAGREE;
          double mean = c == 0 ? 0 : (odd ? -0.02 : 0.02);
          double u = random.nextDouble();
          cs.add(u < disagree / 2 + mean / 2 ? 1 : u < disagree ? -1 : 0);
          if (cs.upper() < 0) {
            worse[c]++;
            break;
          }
        }
      }
    }
    System.out.printf(
        "following arm: equal versions of varying agreement judged worse in %d of %d rollouts;"
            + " versions alternately 2 points better and worse in %d (alpha 0.01)%n",
        worse[0], ROLLOUTS, worse[1]);
    assertThat((double) worse[0] / ROLLOUTS).isLessThanOrEqualTo(0.01);
    assertThat((double) worse[1] / ROLLOUTS).isLessThanOrEqualTo(0.01);
  }

  /** A candidate 5 points worse is judged worse in at least 95% of rollouts, within 5,000 pairs. */
  @Test
  void aCandidateFivePointsWorseIsJudgedWorse() {
    SplittableRandom random = new SplittableRandom(20261205L);
    int worse = 0;
    int[] pairs = new int[ROLLOUTS];
    for (int r = 0; r < ROLLOUTS; r++) {
      End end = rollout(random, -0.05, 0.01, 0.02);
      if (end.verdict() == -1) {
        pairs[worse++] = end.pairs();
      }
    }
    double power = (double) worse / ROLLOUTS;
    System.out.printf(
        "candidate 5 points worse: judged worse in %d of %d rollouts (%.4f), median %d pairs%n",
        worse, ROLLOUTS, power, median(pairs, worse));
    assertThat(power).isGreaterThanOrEqualTo(0.95);
  }

  /** A candidate far worse (a poisoned one) is told within a few dozen pairs. */
  @Test
  void aFarWorseCandidateIsToldWithinAFewDozenPairs() {
    PairedConfidenceSequence cs = new PairedConfidenceSequence(0.01, HORIZON);
    int t = 0;
    // accuracy 0.2 against 0.85: the champion alone right on 65% of pairs
    while (cs.upper() >= 0 && t < 1000) {
      cs.add(t % 20 < 13 ? -1 : 0);
      t++;
    }
    System.out.printf("candidate 65 points worse: judged worse after %d pairs%n", t);
    assertThat(t).isLessThanOrEqualTo(40);
  }

  /**
   * The other error: a candidate exactly at the margin (2 points worse, the hardest case for the
   * non-inferiority side), looked at after every pair, is shown non-inferior (and so stepped) in at
   * most alpha of 10,000 rollouts.
   */
  @Test
  void aCandidateAtTheMarginIsRarelyShownNonInferior() {
    SplittableRandom random = new SplittableRandom(20261206L);
    int shown = 0;
    for (int r = 0; r < ROLLOUTS; r++) {
      PairedConfidenceSequence cs = new PairedConfidenceSequence(0.01, HORIZON);
      for (int t = 1; t <= CAP; t++) {
        double u = random.nextDouble();
        cs.add(u < 0.05 / 2 - 0.02 / 2 ? 1 : u < 0.05 ? -1 : 0);
        if (cs.lower() > -0.02) {
          shown++;
          break;
        }
      }
    }
    double rate = (double) shown / ROLLOUTS;
    System.out.printf(
        "candidate 2 points worse (the margin), disagreeing on 5%% of pairs: shown non-inferior"
            + " within 0.02 in %d of %d rollouts (%.4f, alpha 0.01) over %d looks each%n",
        shown, ROLLOUTS, rate, CAP);
    assertThat(rate).isLessThanOrEqualTo(0.01);
  }

  /**
   * A candidate as good as its champion that agrees with it on 95% of pairs (as consecutive
   * checkpoints of an online model do) is shown non-inferior within 0.02 in at least 95% of
   * rollouts within 5,000 pairs; the median pairs it takes is what a rollout's first step costs.
   */
  @Test
  void anEqualCandidateThatMostlyAgreesIsShownNonInferior() {
    SplittableRandom random = new SplittableRandom(20261207L);
    for (double disagree : new double[] {0.05, 0.1}) {
      int shown = 0;
      int[] pairs = new int[ROLLOUTS];
      for (int r = 0; r < ROLLOUTS; r++) {
        End end = rollout(random, 0, disagree, 0.01, 0.02);
        if (end.verdict() == 1) {
          pairs[shown++] = end.pairs();
        }
      }
      double share = (double) shown / ROLLOUTS;
      System.out.printf(
          "equal candidate disagreeing on %.0f%% of pairs: shown non-inferior within 0.02 in %d of"
              + " %d rollouts (%.4f), median %d pairs%n",
          100 * disagree, shown, ROLLOUTS, share, median(pairs, shown));
      if (disagree == 0.05) {
        assertThat(share).isGreaterThanOrEqualTo(0.95);
      }
    }
  }

  @Test
  void theBoundsHoldTheMeanAndNarrowWithAgreement() {
    PairedConfidenceSequence cs = new PairedConfidenceSequence(0.05, 0);
    assertThat(cs.lower()).isEqualTo(-1);
    assertThat(cs.upper()).isEqualTo(1);
    for (int i = 0; i < 1000; i++) {
      cs.add(i % 10 == 0 ? 1 : 0); // mean 0.1
    }
    assertThat(cs.mean()).isEqualTo(0.1);
    assertThat(cs.lower()).isLessThan(0.1).isGreaterThan(0);
    assertThat(cs.upper()).isGreaterThan(0.1).isLessThan(0.2);
    assertThatThrownBy(() -> cs.add(1.5)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PairedConfidenceSequence(0, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
