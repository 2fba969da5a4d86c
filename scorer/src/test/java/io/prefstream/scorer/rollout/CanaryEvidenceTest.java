package io.prefstream.scorer.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.prefstream.avro.Split;
import org.junit.jupiter.api.Test;

class CanaryEvidenceTest {

  private static final CanaryEvidence.Normaliser UNIT = new CanaryEvidence.Normaliser(0, 1);

  @Test
  void aWorseCandidatesBoundsLieBelowZeroAndAnEqualOnesAroundIt() {
    CanaryEvidence worse = new CanaryEvidence();
    CanaryEvidence equal = new CanaryEvidence();
    for (int i = 0; i < 200; i++) {
      boolean championRight = i % 10 != 0; // 90%
      boolean candidateRight = i % 10 < 6; // 60%
      float[] champ = championRight ? new float[] {1, 0} : new float[] {0, 1};
      float[] cand = candidateRight ? new float[] {2, -1} : new float[] {-1, 2};
      worse.add(Split.TRAIN, cand, champ, UNIT, UNIT);
      equal.add(Split.HOLDOUT, champ.clone(), champ, UNIT, UNIT);
    }
    assertThat(worse.pairs()).isEqualTo(200);
    assertThat(worse.trainPairs()).isEqualTo(200);
    assertThat(equal.holdoutPairs()).isEqualTo(200);
    assertThat(equal.trainPairs()).isZero();
    assertThat(worse.candidateAccuracy()).isCloseTo(0.6, within(1e-9));
    assertThat(worse.championAccuracy()).isCloseTo(0.9, within(1e-9));
    assertThat(worse.upperBound()).isLessThan(0);
    assertThat(worse.lowerBound()).isLessThan(-0.3);
    assertThat(equal.lowerBound()).isLessThanOrEqualTo(0);
    assertThat(equal.upperBound()).isGreaterThanOrEqualTo(0);
    assertThat(equal.psi()).isCloseTo(0, within(1e-10));
  }

  @Test
  void nonFiniteScoresAndSpreadAreTracked() {
    CanaryEvidence e = new CanaryEvidence();
    e.add(Split.TRAIN, new float[] {Float.NaN, 1}, new float[] {1, 0}, UNIT, UNIT);
    e.add(Split.TRAIN, new float[] {3, 3}, new float[] {1, 0}, UNIT, UNIT);
    assertThat(e.nonFinite()).isEqualTo(1);
    assertThat(e.pairs()).isEqualTo(1); // the NaN pair is not an outcome
    assertThat(e.scoreSpread()).isCloseTo(Math.sqrt(4.0 / 3), within(1e-9)); // of 1, 3, 3
  }
}
