package io.prefstream.monitor.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.prefstream.model.stats.PageHinkley;
import org.junit.jupiter.api.Test;

/** Each statistic against a value computed by hand on a small input. */
class DriftTest {

  @Test
  void psiByHand() {
    // shares e = (0.5, 0.5), a = (0.25, 0.75):
    // (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5) = 0.25·ln 2 + 0.25·ln 1.5
    double expected = 0.25 * Math.log(2) + 0.25 * Math.log(1.5);
    assertThat(Drift.psi(new double[] {50, 50}, new double[] {1, 3}))
        .isCloseTo(expected, within(1e-12));
    assertThat(Drift.psi(new double[] {2, 2}, new double[] {7, 7})).isZero();
    // an empty bin is floored, not infinite: shares (1, 0) vs (0.5, 0.5)
    double floored = (1e-4 - 0.5) * Math.log(1e-4 / 0.5) + (1 - 0.5) * Math.log(1 / 0.5);
    assertThat(Drift.psi(new double[] {1, 1}, new double[] {4, 0}))
        .isCloseTo(floored, within(1e-12));
    assertThat(Drift.psi(new double[] {0, 0}, new double[] {1, 2})).isZero();
  }

  @Test
  void ksByHand() {
    // cumulative shares e = (0.25, 0.5, 1), a = (0.5, 0.75, 1): largest gap 0.25
    assertThat(Drift.ksBinned(new double[] {1, 1, 2}, new double[] {2, 1, 1}))
        .isCloseTo(0.25, within(1e-12));
    // samples {1,2,3} and {2,3,4}: at 1 the CDFs are 1/3 and 0 → 1/3
    assertThat(Drift.ks(new double[] {1, 2, 3}, new double[] {2, 3, 4}))
        .isCloseTo(1.0 / 3, within(1e-12));
    assertThat(Drift.ks(new double[] {1, 2}, new double[] {5, 6})).isEqualTo(1.0);
    assertThat(Drift.ks(new double[] {1, 2, 3}, new double[] {3, 2, 1})).isZero();
  }

  @Test
  void jensenShannonByHand() {
    assertThat(Drift.jensenShannon(new double[] {1, 0}, new double[] {0, 1}))
        .isCloseTo(1, within(1e-12));
    assertThat(Drift.jensenShannon(new double[] {3, 1}, new double[] {6, 2}))
        .isCloseTo(0, within(1e-12));
    // p = (1, 0), q = (0.5, 0.5): m = (0.75, 0.25);
    // JS = ½·1·log2(1/0.75) + ½·(0.5·log2(0.5/0.75) + 0.5·log2(0.5/0.25))
    double expected =
        0.5 * log2(1 / 0.75) + 0.5 * (0.5 * log2(0.5 / 0.75) + 0.5 * log2(0.5 / 0.25));
    assertThat(Drift.jensenShannon(new double[] {2, 0}, new double[] {1, 1}))
        .isCloseTo(expected, within(1e-12));
  }

  @Test
  void spearmanByHand() {
    assertThat(Drift.spearman(new double[] {1, 2, 3, 4}, new double[] {10, 20, 30, 40}))
        .isEqualTo(1.0);
    assertThat(Drift.spearman(new double[] {1, 2, 3}, new double[] {3, 2, 1})).isEqualTo(-1.0);
    // x = (1, 2, 3, 4, 5), y = (2, 1, 4, 3, 5): Σd² = 4, ρ = 1 − 6·4 / (5·24) = 0.8
    assertThat(Drift.spearman(new double[] {1, 2, 3, 4, 5}, new double[] {2, 1, 4, 3, 5}))
        .isCloseTo(0.8, within(1e-12));
    // ties get average ranks: y = (1, 1, 2) → ranks (1.5, 1.5, 3)
    assertThat(Drift.ranks(new double[] {1, 1, 2})).containsExactly(1.5, 1.5, 3.0);
    assertThat(Drift.spearman(new double[] {1, 2}, new double[] {5, 5})).isNaN();
  }

  @Test
  void pageHinkleySignalsADropAndNotAStationaryStream() {
    java.util.Random random = new java.util.Random(3);
    PageHinkley stationary = new PageHinkley(0.01, 40, 100);
    int falseAlarms = 0;
    for (int i = 0; i < 20_000; i++) {
      falseAlarms += stationary.add(random.nextDouble() < 0.9 ? 1 : 0) ? 1 : 0;
    }
    assertThat(falseAlarms).isZero();
    PageHinkley drifting = new PageHinkley(0.01, 40, 100);
    for (int i = 0; i < 2000; i++) {
      assertThat(drifting.add(random.nextDouble() < 0.9 ? 1 : 0)).isFalse();
    }
    int delay = 0;
    while (!drifting.add(random.nextDouble() < 0.6 ? 1 : 0)) {
      delay++;
    }
    // the statistic grows by about 0.9 − 0.6 − 0.01 per sample: ~140 samples to pass 40
    assertThat(delay).isBetween(60, 300);
  }

  @Test
  void hysteresisEntersAtThresholdsAndLeavesBelowLowerOnes() {
    Hysteresis h = Hysteresis.of(0.1, 0.25, 0.8); // leave warn below 0.08, alert below 0.2
    assertThat(h.update(0.05)).isEqualTo(Hysteresis.Level.OK);
    assertThat(h.update(0.1)).isEqualTo(Hysteresis.Level.WARN);
    assertThat(h.update(0.09)).isEqualTo(Hysteresis.Level.WARN); // not below 0.08
    assertThat(h.update(0.3)).isEqualTo(Hysteresis.Level.ALERT);
    assertThat(h.update(0.21)).isEqualTo(Hysteresis.Level.ALERT); // not below 0.2
    assertThat(h.update(0.19)).isEqualTo(Hysteresis.Level.WARN);
    assertThat(h.update(0.079)).isEqualTo(Hysteresis.Level.OK);
    assertThat(h.update(Double.NaN)).isEqualTo(Hysteresis.Level.OK);
    // lower is worse: negated accuracy, alert at accuracy ≤ 0.7, leave above 0.75
    Hysteresis accuracy = new Hysteresis(-0.8, -0.85, -0.7, -0.75);
    assertThat(accuracy.update(-0.9)).isEqualTo(Hysteresis.Level.OK);
    assertThat(accuracy.update(-0.69)).isEqualTo(Hysteresis.Level.ALERT);
    assertThat(accuracy.update(-0.72)).isEqualTo(Hysteresis.Level.ALERT);
    assertThat(accuracy.update(-0.76)).isEqualTo(Hysteresis.Level.WARN);
    assertThat(accuracy.update(-0.86)).isEqualTo(Hysteresis.Level.OK);
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
