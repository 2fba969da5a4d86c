package io.prefstream.scorer.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.prefstream.avro.RolloutAction;
import io.prefstream.avro.RolloutPhase;
import io.prefstream.avro.RolloutState;
import io.prefstream.avro.Split;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RolloutsTest {

  private static final Instant NOW = Instant.parse("2026-11-24T00:00:00Z");
  private static final CanaryEvidence.Normaliser UNIT = new CanaryEvidence.Normaliser(0, 1);
  private final RolloutPolicy policy = RolloutPolicy.defaults();

  @Test
  void aGoodCandidateStepsThroughEveryWeightToPromotion() {
    RolloutState s = Rollouts.firstChampion("t", "reward", 1, NOW);
    assertThat(s.getChampionVersion()).isEqualTo(1L);
    s = Rollouts.candidate(s, 2, policy, Map.of(0, 10L, 1, 20L), NOW);
    // A 1% canary from the start: the newest model serves a sliver of traffic at once.
    assertThat(s.getPhase()).isEqualTo(RolloutPhase.CANARY);
    assertThat(s.getCandidateWeight()).isEqualTo(0.01);
    assertThat(Rollouts.candidateOffsets(s)).containsEntry(0, 10L).containsEntry(1, 20L);
    // As good as the champion on 200 pairs: not yet shown within the tolerance, so it waits.
    Rollouts.Judgement early = Rollouts.judge(evidence(200, 0.85, 0.85), 200, policy);
    assertThat(early.verdict()).isEqualTo(Rollouts.Verdict.WAIT);
    assertThat(early.evidence().getOther().get("difference_lower")).isLessThan(-0.02);
    CanaryEvidence good = evidence(1000, 0.85, 0.85);
    double[] weights = {0.05, 0.25, 0.5};
    for (double w : weights) {
      Rollouts.Judgement j = Rollouts.judge(good, 200, policy);
      assertThat(j.verdict()).isEqualTo(Rollouts.Verdict.STEP);
      assertThat(j.reason())
          .startsWith("non-inferior within the tolerance")
          .contains("1000 fresh pairs (950 TRAIN, 50 HOLDOUT; 200 this step)");
      assertThat(j.evidence().getOther())
          .containsEntry("train_pairs", 950.0)
          .containsEntry("holdout_pairs", 50.0);
      s = Rollouts.step(s, policy, j, Map.of(0, 99L), NOW);
      assertThat(s.getPhase()).isEqualTo(RolloutPhase.CANARY);
      assertThat(s.getCandidateWeight()).isEqualTo(w);
      assertThat(Rollouts.stepOffsets(s)).containsEntry(0, 99L);
    }
    s = Rollouts.step(s, policy, Rollouts.judge(good, 200, policy), Map.of(), NOW);
    assertThat(s.getChampionVersion()).isEqualTo(2L);
    assertThat(s.getCandidateVersion()).isNull();
    assertThat(s.getPhase()).isEqualTo(RolloutPhase.IDLE);
    assertThat(s.getHistory().get(s.getHistory().size() - 1).getAction())
        .isEqualTo(RolloutAction.PROMOTE);
    assertThat(Rollouts.decidedThrough(s)).isEqualTo(2);
  }

  @Test
  void aFollowingArmGoesOnWithTheNewestVersionAndStepsOnItsVersionsTogether() {
    RolloutState s = Rollouts.firstChampion("t", "reward", 1, NOW);
    s = Rollouts.candidate(s, 2, policy, Map.of(0, 10L), NOW);
    s = Rollouts.follow(s, 3, policy, Map.of(0, 40L), NOW);
    s = Rollouts.refuse(s, 4, "refused: a digest differs", NOW);
    s = Rollouts.follow(s, 5, policy, Map.of(0, 70L), NOW);
    assertThat(s.getCandidateVersion()).isEqualTo(5L);
    assertThat(s.getCandidateWeight()).isEqualTo(0.01);
    assertThat(s.getStep()).isZero();
    // The arm's versions with where each one's fresh pairs begin; the refused one is not among
    // them.
    assertThat(Rollouts.lineage(s))
        .containsExactly(
            Map.entry(2L, Map.of(0, 10L)),
            Map.entry(3L, Map.of(0, 40L)),
            Map.entry(5L, Map.of(0, 70L)));
    assertThat(Rollouts.candidateOffsets(s)).containsEntry(0, 70L);
    assertThat(Rollouts.stepOffsets(s)).containsEntry(0, 10L); // the step began with v2
    assertThat(Rollouts.decidedThrough(s)).isEqualTo(5);
    var last = s.getHistory().get(s.getHistory().size() - 1);
    assertThat(Rollouts.isFollow(last)).isTrue();
    assertThat(last.getReason()).contains("v5 descends from v3");

    // The arm together is non-inferior on 1000 pairs; the version serving now has 150 of its own.
    CanaryEvidence arm = evidence(1000, 0.85, 0.85);
    CanaryEvidence own = evidence(150, 0.85, 0.85);
    assertThat(Rollouts.judge(own, 200, policy).verdict()).isEqualTo(Rollouts.Verdict.WAIT);
    Rollouts.Judgement j = Rollouts.judge(own, arm, 1000, policy);
    assertThat(j.verdict()).isEqualTo(Rollouts.Verdict.STEP);
    assertThat(j.reason()).contains("the arm's versions together");
    assertThat(j.evidence().getOther()).containsEntry("arm_pairs", 1000.0);
    s = Rollouts.step(s, policy, j, Map.of(0, 120L), NOW);
    assertThat(s.getCandidateVersion()).isEqualTo(5L);
    assertThat(s.getCandidateWeight()).isEqualTo(0.05);
    assertThat(Rollouts.stepOffsets(s)).containsEntry(0, 120L);
    // It goes on following at 5% and 25%; at 50%, the last step before promotion, it is fixed.
    s = Rollouts.follow(s, 6, policy, Map.of(0, 130L), NOW);
    assertThat(s.getCandidateWeight()).isEqualTo(0.05);
    assertThat(Rollouts.stepOffsets(s)).containsEntry(0, 120L); // the step goes on
    s = Rollouts.step(s, policy, j, Map.of(0, 150L), NOW);
    s = Rollouts.step(s, policy, j, Map.of(0, 180L), NOW);
    assertThat(s.getCandidateWeight()).isEqualTo(0.5);
    assertThat(policy.follows(s.getStep())).isFalse();
    assertThat(Rollouts.lineage(s).keySet()).containsExactly(2L, 3L, 5L, 6L);
    RolloutState fixed = s;
    assertThatThrownBy(() -> Rollouts.follow(fixed, 7, policy, Map.of(), NOW))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("the last step before promotion keeps its version");

    // The version serving now is judged on its own pairs: worse alone rolls back, though the arm
    // together looks fine; and the arm together significantly worse rolls back too.
    Rollouts.Judgement poisoned = Rollouts.judge(evidence(100, 0.3, 0.9), arm, 1100, policy);
    assertThat(poisoned.verdict()).isEqualTo(Rollouts.Verdict.ROLLBACK);
    assertThat(poisoned.reason()).startsWith("significantly worse: accuracy 0.300");
    Rollouts.Judgement armWorse =
        Rollouts.judge(evidence(20, 0.85, 0.85), evidence(1000, 0.7, 0.85), 1000, policy);
    assertThat(armWorse.verdict()).isEqualTo(Rollouts.Verdict.ROLLBACK);
    assertThat(armWorse.reason()).contains("the arm's versions together");
  }

  @Test
  void judgementWaitsForPairsThenRollsBackAWorseCandidate() {
    assertThat(Rollouts.judge(evidence(20, 0.9, 0.9), 20, policy).verdict())
        .isEqualTo(Rollouts.Verdict.WAIT);
    Rollouts.Judgement worse = Rollouts.judge(evidence(100, 0.3, 0.9), 100, policy);
    assertThat(worse.verdict()).isEqualTo(Rollouts.Verdict.ROLLBACK);
    assertThat(worse.reason()).startsWith("significantly worse");
    assertThat(worse.evidence().getOther().get("difference_upper")).isLessThan(0);
    // half a point worse, the models agreeing on all other pairs: shown within the tolerance
    CanaryEvidence slightlyWorse = new CanaryEvidence();
    for (int i = 0; i < 3000; i++) {
      boolean championRight = i % 20 != 0;
      boolean candidateRight = championRight && i % 200 != 1;
      slightlyWorse.add(
          Split.TRAIN,
          candidateRight ? new float[] {1, 0} : new float[] {0, 1},
          championRight ? new float[] {1, 0} : new float[] {0, 1},
          UNIT,
          UNIT);
    }
    assertThat(slightlyWorse.difference()).isCloseTo(-0.005, within(1e-9));
    assertThat(Rollouts.judge(slightlyWorse, 400, policy).verdict())
        .isEqualTo(Rollouts.Verdict.STEP);
    // worse beyond tolerance but not significantly: waits, then gives up
    RolloutPolicy small = new RolloutPolicy(policy.steps(), 50, 100, 0.02, 1e-6, 1e-4, 0.5);
    assertThat(Rollouts.judge(evidence(60, 0.8, 0.9), 60, small).verdict())
        .isEqualTo(Rollouts.Verdict.WAIT);
    Rollouts.Judgement gaveUp = Rollouts.judge(evidence(100, 0.8, 0.9), 100, small);
    assertThat(gaveUp.verdict()).isEqualTo(Rollouts.Verdict.ROLLBACK);
    assertThat(gaveUp.reason()).startsWith("inconclusive");
  }

  @Test
  void aCandidateIsRolledBackOnlyOnceItsAlwaysValidBoundIsBelowZero() {
    // 5 points worse on 400 pairs: the bounds still hold 0, so no rollback; a margin wide enough
    // to hold the lower bound lets it step, a narrow one keeps it waiting for more pairs.
    CanaryEvidence e = evidence(400, 0.75, 0.80);
    assertThat(e.lowerBound()).isLessThan(-0.05);
    assertThat(e.upperBound()).isGreaterThan(0);
    RolloutPolicy tolerant =
        new RolloutPolicy(policy.steps(), 200, 5000, -e.lowerBound(), 0.01, 1e-4, 0.5);
    assertThat(Rollouts.judge(e, 400, tolerant).verdict()).isEqualTo(Rollouts.Verdict.STEP);
    RolloutPolicy strict = new RolloutPolicy(policy.steps(), 200, 5000, 0.05, 0.01, 1e-4, 0.5);
    assertThat(Rollouts.judge(e, 400, strict).verdict()).isEqualTo(Rollouts.Verdict.WAIT);
    // 25 points worse: the upper bound falls below 0, whatever the tolerance.
    CanaryEvidence worse = evidence(400, 0.55, 0.80);
    assertThat(worse.upperBound()).isLessThan(0);
    Rollouts.Judgement j = Rollouts.judge(worse, 400, tolerant);
    assertThat(j.verdict()).isEqualTo(Rollouts.Verdict.ROLLBACK);
    assertThat(j.reason()).contains("confidence sequence");
    assertThat(j.evidence().getOther()).containsKeys("difference_lower", "difference_upper");
  }

  @Test
  void sanityRollsBackNonFiniteAndCollapsedScores() {
    CanaryEvidence nan = new CanaryEvidence();
    nan.add(Split.HOLDOUT, new float[] {Float.NaN, Float.NaN}, new float[] {1, 0}, UNIT, UNIT);
    assertThat(Rollouts.judge(nan, 1, policy).reason()).startsWith("sanity: 2 of 2 scores");
    CanaryEvidence flat = new CanaryEvidence();
    for (int i = 0; i < 20; i++) {
      flat.add(Split.TRAIN, new float[] {0.5f, 0.5f}, new float[] {i, -i}, UNIT, UNIT);
    }
    Rollouts.Judgement j = Rollouts.judge(flat, 20, policy);
    assertThat(j.verdict()).isEqualTo(Rollouts.Verdict.ROLLBACK);
    assertThat(j.reason()).startsWith("sanity: scores collapsed");
  }

  @Test
  void manualPinRollbackAndPromote() {
    RolloutState s = Rollouts.firstChampion("t", "reward", 1, NOW);
    s = Rollouts.candidate(s, 2, policy, Map.of(), NOW);
    RolloutState promoted = Rollouts.promote(s, "looks good", "alice", null, NOW);
    assertThat(promoted.getChampionVersion()).isEqualTo(2L);
    RolloutState back = Rollouts.rollback(promoted, "regression", "bob", null, NOW);
    assertThat(back.getChampionVersion()).isEqualTo(1L);
    assertThat(back.getPhase()).isEqualTo(RolloutPhase.PINNED);
    var last = back.getHistory().get(back.getHistory().size() - 1);
    assertThat(last.getActor()).isEqualTo("bob");
    assertThat(last.getReason()).contains("regression", "v1");
    RolloutState pinned = Rollouts.pin(s, 1, "freeze", "carol", NOW);
    assertThat(pinned.getCandidateVersion()).isNull();
    assertThat(pinned.getPhase()).isEqualTo(RolloutPhase.PINNED);
    assertThat(Rollouts.unpin(pinned, "go", "carol", NOW).getPhase()).isEqualTo(RolloutPhase.IDLE);
    assertThatThrownBy(
            () ->
                Rollouts.rollback(
                    Rollouts.firstChampion("t", "reward", 1, NOW), "x", "dave", null, NOW))
        .hasMessageContaining("nothing to roll back");
  }

  @Test
  void stepsMustRiseAndEndAtOne() {
    assertThatThrownBy(
            () -> new RolloutPolicy(RolloutPolicy.parseSteps("0,0.5"), 1, 2, 0, 0.01, 0, 1))
        .hasMessageContaining("end with 1");
    assertThatThrownBy(
            () -> new RolloutPolicy(RolloutPolicy.parseSteps("0.5,0.2,1"), 1, 2, 0, 0.01, 0, 1))
        .hasMessageContaining("rise strictly");
  }

  /** A shifted score distribution is a change, not harm, unless the candidate is also worse. */
  @Test
  void aShiftedScoreDistributionRollsBackOnlyWithEvidenceOfHarm() {
    CanaryEvidence sameButShifted = shifted(1000, 0.8, 0.8, 3);
    assertThat(sameButShifted.psi()).isGreaterThan(policy.maxPsi());
    Rollouts.Judgement j = Rollouts.judge(sameButShifted, 300, policy);
    assertThat(j.verdict()).isEqualTo(Rollouts.Verdict.STEP);
    assertThat(j.reason()).contains("scores shifted (PSI", "a change, not harm");

    CanaryEvidence betterAndShifted = shifted(300, 0.9, 0.7, 3);
    assertThat(betterAndShifted.lowerBound()).isGreaterThan(0);
    assertThat(Rollouts.judge(betterAndShifted, 300, policy).verdict())
        .isEqualTo(Rollouts.Verdict.STEP);

    // A poisoned candidate: few pairs, far worse, scores moved. Rolled back at once.
    RolloutPolicy demo = new RolloutPolicy(policy.steps(), 30, 5000, 0.02, 0.01, 1e-4, 0.5);
    CanaryEvidence poisoned = shifted(33, 0.18, 0.82, 3);
    Rollouts.Judgement k = Rollouts.judge(poisoned, 33, demo);
    assertThat(k.verdict()).isEqualTo(Rollouts.Verdict.ROLLBACK);
    // Somewhat worse on few pairs, scores moved: not yet evidence of harm, so it waits.
    CanaryEvidence noisy = shifted(40, 0.75, 0.8, 3);
    assertThat(noisy.upperBound()).isGreaterThan(demo.tolerance());
    assertThat(Rollouts.judge(noisy, 20, demo).verdict()).isEqualTo(Rollouts.Verdict.WAIT);
  }

  private static CanaryEvidence evidence(int n, double a, double h) {
    return shifted(n, a, h, 0);
  }

  /** The candidate's normalised scores {@code shift} above where the champion's would be. */
  private static CanaryEvidence shifted(int n, double a, double h, float shift) {
    CanaryEvidence e = new CanaryEvidence();
    for (int i = 0; i < n; i++) {
      // Spread over the pairs (not in blocks): right where the running count of a share steps.
      boolean c = Math.floor((i + 1) * a) > Math.floor(i * a);
      boolean p = Math.floor((i + 1) * h) > Math.floor(i * h);
      float spread = (i % 7) * 0.1f;
      e.add(
          i % 20 == 0 ? Split.HOLDOUT : Split.TRAIN,
          c
              ? new float[] {1 + spread + shift, -spread + shift}
              : new float[] {-spread + shift, 1 + spread + shift},
          p ? new float[] {1 + spread, -spread} : new float[] {-spread, 1 + spread},
          UNIT,
          UNIT);
    }
    return e;
  }
}
