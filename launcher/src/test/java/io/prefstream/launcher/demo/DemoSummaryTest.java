package io.prefstream.launcher.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.launcher.demo.DemoSummary.Accuracy;
import io.prefstream.launcher.demo.DemoSummary.DriftAlert;
import io.prefstream.launcher.demo.DemoSummary.Events;
import io.prefstream.launcher.demo.DemoSummary.Figure;
import io.prefstream.launcher.demo.DemoSummary.InKafka;
import io.prefstream.launcher.demo.DemoSummary.Lost;
import io.prefstream.launcher.demo.DemoSummary.Pairs;
import io.prefstream.launcher.demo.DemoSummary.Poisoned;
import io.prefstream.launcher.demo.DemoSummary.Rollouts;
import io.prefstream.launcher.demo.DemoSummary.Serving;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The summary's JSON is a contract (DESIGN.md, and whoever reads {@code --summary}): these pin it
 * byte for byte to what the demo printed before it was a type.
 */
class DemoSummaryTest {

  private static Map<String, Long> sorted(Map<String, Long> m) {
    return new TreeMap<>(m);
  }

  /** {@code ./prefstream demo --events 5000} on the simulated product, as printed before. */
  static DemoSummary steady() {
    return new DemoSummary(
        "pairs",
        "steady",
        null,
        new Events(5108, 4919, 89, 100, 89),
        new Pairs(
            sorted(
                Map.of(
                    "implicit", 473L,
                    "labeled_pair", 94L,
                    "pairwise_choice", 255L,
                    "ranking", 276L,
                    "rating", 102L)),
            1200,
            46,
            1154,
            3),
        3,
        new Accuracy(Figure.of(0.746612), Figure.of(0.804347), Figure.of(0.779411), null),
        "ngram-mlp",
        new Rollouts(List.of(), 1, 0, 1, 2, "SHADOW"),
        null,
        new Serving(50, 1L, 0.62, 0.367, null, null, 93L),
        List.of(),
        89,
        null,
        Map.of("ingest", 89L),
        new InKafka(4919, 4919),
        new Lost(0, 0),
        35.3);
  }

  @Test
  void theSimulatedProductsSummaryIsAsBefore() {
    assertThat(steady().toJson())
        .isEqualTo(
            "{\"demo\":\"pairs\",\"scenario\":\"steady\",\"events\":{\"sent\":5108,\"accepted\":4919,"
                + "\"rejected\":89,\"duplicate\":100,\"malformed_sent\":89},\"pairs\":{\"by_source\":"
                + "{\"implicit\":473,\"labeled_pair\":94,\"pairwise_choice\":255,\"ranking\":276,"
                + "\"rating\":102},\"total\":1200,\"holdout\":46,\"trained\":1154,\"revised\":3},\"checkpoints\":3,"
                + "\"accuracy\":{\"prequential\":0.7466,\"holdout\":0.8043,\"true_preference\":0.7794},"
                + "\"model\":\"ngram-mlp\",\"rollouts\":{\"reasons\":[],\"promoted\":1,\"rolled_back\":0,"
                + "\"champion\":1,\"candidate\":2,\"phase\":\"SHADOW\"},\"serving\":"
                + "{\"best_of_n_requests\":50,\"version\":1,\"best_of_n_truly_best\":0.62,"
                + "\"best_of_n_by_chance\":0.367,\"live_best_of_n_requests\":93},\"drift_alerts\":[],"
                + "\"dead_letters\":89,\"dead_letters_by_source\":{\"ingest\":89},\"kafka\":"
                + "{\"feedback_records\":4919,\"distinct_event_ids\":4919},\"lost\":{\"events\":0,"
                + "\"pairs\":0},\"seconds\":35.3}");
  }

  @Test
  void aReplayWithBadInputAndAPoisonedCheckpointHasEveryOptionalPartInPlace() {
    DemoSummary s =
        new DemoSummary(
            "pairs",
            "poisoned-checkpoint",
            "hh.jsonl.gz",
            new Events(10, 8, 2, 1, 2),
            new Pairs(Map.of("labeled_pair", 8L), 8, 1, 7, 0),
            2,
            new Accuracy(
                Figure.of(0.5), Figure.of(Double.NaN), Figure.of(Double.NaN), Figure.of(0.75)),
            "encoder",
            new Rollouts(List.of("v3: worse"), 1, 1, 2, 0, "NONE"),
            new Poisoned(
                3,
                null,
                3000,
                List.of(4L),
                Figure.of(0.2),
                12.5,
                0.05,
                0,
                "rolled_back",
                "worse",
                20.25,
                120L,
                Figure.of(0.3),
                Figure.of(Double.NaN),
                0.001),
            Serving.none().withHeldBack(4, 0.75).withLive(0),
            List.of(
                new DriftAlert("reward/score_psi", 0.1239, 0.1, "WARN", "2026-12-03T13:44:00Z")),
            2,
            DemoRun.badInput(
                new BadInput.Result(
                    5, new TreeMap<>(Map.of(400, 3L, 401, 2L)), List.of(), List.of())),
            Map.of("ingest", 2L),
            new InKafka(8, 8),
            new Lost(0, 0),
            1.5);

    assertThat(s.toJson())
        .isEqualTo(
            "{\"demo\":\"pairs\",\"scenario\":\"poisoned-checkpoint\",\"dataset\":\"hh.jsonl.gz\","
                + "\"events\":{\"sent\":10,\"accepted\":8,\"rejected\":2,\"duplicate\":1,"
                + "\"malformed_sent\":2},\"pairs\":{\"by_source\":{\"labeled_pair\":8},\"total\":8,"
                + "\"holdout\":1,\"trained\":7,\"revised\":0},\"checkpoints\":2,\"accuracy\":{\"prequential\":0.5,"
                + "\"holdout\":null,\"true_preference\":null,\"held_back_chosen_first\":0.75},"
                + "\"model\":\"encoder\",\"rollouts\":{\"reasons\":[\"v3: worse\"],\"promoted\":1,"
                + "\"rolled_back\":1,\"champion\":2,\"candidate\":0,\"phase\":\"NONE\"},"
                + "\"poisoned_checkpoint\":{\"version\":3,\"trained_on_flipped_pairs\":3000,"
                + "\"passed_over_versions\":[4],\"holdout_accuracy\":0.2,\"published_at_s\":12.5,"
                + "\"max_traffic_share\":0.05,\"served_best_of_n\":0,\"outcome\":\"rolled_back\","
                + "\"reason\":\"worse\",\"decided_after_s\":20.25,\"evidence_pairs\":120,"
                + "\"candidate_accuracy\":0.3,\"champion_accuracy\":null,\"p_value\":0.001},"
                + "\"serving\":{\"held_back_pairs_ranked\":4,\"held_back_chosen_ranked_first\":0.75,"
                + "\"live_best_of_n_requests\":0},\"drift_alerts\":[{\"metric\":\"reward/score_psi\","
                + "\"value\":0.1239,\"threshold\":0.1,\"level\":\"WARN\","
                + "\"at\":\"2026-12-03T13:44:00Z\"}],\"dead_letters\":2,\"bad_input\":"
                + "{\"garbage_requests\":5,\"answered_400\":3,\"answered_401\":2,"
                + "\"closed_unanswered\":0,\"server_errors\":0},\"dead_letters_by_source\":"
                + "{\"ingest\":2},\"kafka\":{\"feedback_records\":8,\"distinct_event_ids\":8},"
                + "\"lost\":{\"events\":0,\"pairs\":0},\"seconds\":1.5}");
  }

  @Test
  void anUndecidedPoisonLeavesTheDecisionOut() {
    Poisoned undecided =
        new Poisoned(
            0,
            "no champion served",
            3000,
            List.of(),
            Figure.of(Double.NaN),
            null,
            0,
            0,
            "undecided",
            null,
            null,
            null,
            null,
            null,
            null);
    DemoSummary s =
        new DemoSummary(
            steady().demo(),
            "poisoned-checkpoint",
            null,
            steady().events(),
            steady().pairs(),
            0,
            steady().accuracy(),
            "ngram-mlp",
            steady().rollouts(),
            undecided,
            steady().serving(),
            List.of(),
            0,
            null,
            Map.of(),
            steady().kafka(),
            steady().lost(),
            1);

    assertThat(s.toJson())
        .contains(
            "\"poisoned_checkpoint\":{\"version\":0,\"failure\":\"no champion served\","
                + "\"trained_on_flipped_pairs\":3000,\"passed_over_versions\":[],"
                + "\"holdout_accuracy\":null,\"max_traffic_share\":0.0,\"served_best_of_n\":0,"
                + "\"outcome\":\"undecided\"},");
    assertThat(DemoRun.failure(s, 0, 0))
        .contains("demo: the poisoned checkpoint v0 was undecided, not rolled back");
  }

  @Test
  void aRunFailsOnAnythingLostOrAnsweredWrong() {
    DemoSummary good = steady();
    assertThat(DemoRun.failure(good, 0, 0)).isEmpty();
    assertThat(DemoRun.failure(good, 1, 0)).isPresent(); // a valid event rejected
    assertThat(DemoRun.failure(good, 0, 1)).isPresent(); // a request unanswered
    DemoSummary lostPair =
        new DemoSummary(
            good.demo(),
            good.scenario(),
            null,
            good.events(),
            good.pairs(),
            good.checkpoints(),
            good.accuracy(),
            good.model(),
            good.rollouts(),
            null,
            good.serving(),
            good.driftAlerts(),
            good.deadLetters(),
            Map.of("garbage_requests", 5L, "server_errors", 0L),
            good.deadLettersBySource(),
            new InKafka(4920, 4919),
            new Lost(0, 1),
            good.seconds());
    assertThat(DemoRun.failure(lostPair, 0, 0))
        .isEqualTo(
            Optional.of(
                "demo: accepted 4919, in Kafka 4920 records of 4919 distinct events; see above"));
  }
}
