package io.prefstream.scorer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ServingTest {

  @Test
  void stickyRoutingIsStableMonotoneAndSharesTrafficByWeight() {
    int toCandidate = 0;
    for (int u = 0; u < 20_000; u++) {
      String who = "user:u" + u;
      boolean at5 = Serving.toCandidate("t/reward", who, 0.05);
      boolean at25 = Serving.toCandidate("t/reward", who, 0.25);
      assertThat(Serving.toCandidate("t/reward", who, 0.05)).isEqualTo(at5); // stable
      if (at5) {
        assertThat(at25).as("a canary user stays on the candidate as it grows").isTrue();
      }
      toCandidate += at25 ? 1 : 0;
      assertThat(Serving.toCandidate("t/reward", who, 0)).isFalse();
      assertThat(Serving.toCandidate("t/reward", who, 1)).isTrue();
    }
    assertThat(toCandidate / 20_000.0).isCloseTo(0.25, within(0.015));
  }
}
