package io.prefstream.trainer.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReservoirTest {

  /** The share of a sample drawn from the items offered before {@code before}. */
  private static double olderThan(List<Integer> sample, int before) {
    return sample.stream().filter(i -> i < before).count() / (double) sample.size();
  }

  @Test
  void aUniformReservoirKeepsOldItemsAsOftenAsNewOnes() {
    Reservoir<Integer> r = new Reservoir<>(1000, 1);
    for (int i = 0; i < 40_000; i++) {
      r.offer(i);
    }
    // The first half of everything offered is half of the sample.
    assertThat(olderThan(r.sample(20_000), 20_000)).isCloseTo(0.5, within(0.05));
  }

  @Test
  void withAHalfLifeAKeptItemsChanceHalvesEveryHalfLife() {
    Reservoir<Integer> r = new Reservoir<>(1000, 2, 5000, 100);
    for (int i = 0; i < 40_000; i++) {
      r.offer(i);
    }
    // Items offered more than one half-life ago: about half of what the sample would hold if
    // nothing decayed beyond them, i.e. exp(-ln 2) of the kept mass lies older than 5,000 offers.
    assertThat(olderThan(r.sample(20_000), 35_000)).isCloseTo(0.5, within(0.05));
    assertThat(olderThan(r.sample(20_000), 30_000)).isCloseTo(0.25, within(0.05));
    assertThat(olderThan(r.sample(20_000), 20_000)).isCloseTo(0.0625, within(0.03));
    // The newest items apart: the last 100.
    assertThat(r.sampleRecent(1000)).allMatch(i -> i >= 39_900);
  }

  @Test
  void afterADriftOnlyTheNewestAreKeptAndTheSampleFillsAgainFromNewItems() {
    Reservoir<Integer> r = new Reservoir<>(1000, 3, 5000, 100);
    for (int i = 0; i < 10_000; i++) {
      r.offer(i);
    }
    r.forgetAllButRecent();
    assertThat(r.size()).isEqualTo(100);
    assertThat(r.sample(1000)).allMatch(i -> i >= 9_900);
    for (int i = 10_000; i < 12_000; i++) {
      r.offer(i);
    }
    assertThat(r.size()).isEqualTo(1000);
    assertThat(r.sample(1000)).allMatch(i -> i >= 9_900);
  }
}
