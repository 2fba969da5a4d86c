package io.prefstream.scorer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the scorer's /healthz counts: a replica is ready only when no promoted champion loads. */
class ChampionsTest {

  @Test
  void eachPromotedChampionIsServingLoadingOrRefused() {
    Map<String, Long> champions = new HashMap<>();
    Map<String, Long> served = new HashMap<>();
    champions.put("a/reward", 3L); // serving v3
    served.put("a/reward", 3L);
    champions.put("b/reward", 5L); // v5 promoted, v4 still serves while it loads: serving
    served.put("b/reward", 4L);
    champions.put("c/reward", 2L); // nothing serves yet: loading (/v1/score would be 503)
    champions.put("d/reward", 7L); // refused: never served, no wait helps
    champions.put("e/reward", null); // nothing promoted yet

    ScorerRoutes.Champions c =
        ScorerRoutes.Champions.of(champions, served, Set.of("d/reward/v7", "a/reward/v2"));

    assertThat(c).isEqualTo(new ScorerRoutes.Champions(2, 1, 1, 1));
  }

  @Test
  void withEveryChampionServingNothingLoads() {
    assertThat(ScorerRoutes.Champions.of(Map.of("a/reward", 1L), Map.of("a/reward", 1L), Set.of()))
        .isEqualTo(new ScorerRoutes.Champions(1, 0, 0, 0));
  }
}
