package io.prefstream.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.config.Settings;
import io.prefstream.model.checkpoint.CheckpointId;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.model.checkpoint.Manifest;
import io.prefstream.model.ngram.NgramFeaturizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TenantModelTest {

  @TempDir Path dir;

  @Test
  void aCheckpointOfAnotherFeaturizerVersionIsNotResumed() throws Exception {
    TrainerConfig config =
        TrainerConfig.from(
            Settings.of(
                Map.of(
                    "model.buckets", "4096",
                    "model.hidden", "16",
                    "trainer.batch-size", "16")));
    TrainerMetrics metrics = TrainerMetrics.inMemory();
    DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir);
    List<Manifest.Offset> offsets = List.of(new Manifest.Offset("prefstream.pairs", 0, 40));
    try (TenantModel model = TenantModel.fresh("acme", config, metrics)) {
      for (int i = 0; i < 40; i++) {
        model.addTrain(
            TrainingPair.unweighted("q" + i, "a helpful answer " + i, "no"), System.nanoTime());
      }
      model.trainPending();
      assertThat(model.checkpoint(store, offsets, Map.of()).written()).isTrue();
    }
    CheckpointId id = store.list("acme", config.modelName()).get(0);
    Path manifest = store.fetch(id).resolve("manifest.json");
    String json = Files.readString(manifest);
    String current = "\"featurizer_version\" : " + NgramFeaturizer.VERSION;
    assertThat(json).contains(current);
    Files.writeString(manifest, json.replace(current, "\"featurizer_version\" : 1"));

    List<String> problems = new ArrayList<>();
    var restored = TenantModel.restore("acme", config, metrics, store, m -> true, problems::add);

    assertThat(restored).isEmpty();
    assertThat(problems)
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("features are version 1, this build's are version " + NgramFeaturizer.VERSION);
  }

  /**
   * The gate refuses a checkpoint only on evidence: one that unlearned what its parent knew is
   * refused on 200 holdout pairs, naming its bound, while the same regression on 8 pairs is too
   * little to tell and is published (the old fixed tolerance refused it).
   */
  @Test
  void theGateRefusesOnlyACheckpointSignificantlyWorseThanItsParent() throws Exception {
    for (int holdout : new int[] {200, 8}) {
      TrainerConfig config =
          TrainerConfig.from(
              Settings.of(
                  Map.of(
                      "model.buckets", "4096",
                      "model.hidden", "16",
                      "trainer.batch-size", "16",
                      "trainer.gate-min-holdout", "0",
                      "trainer.holdout-window", "1000")));
      DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir.resolve("gate-" + holdout));
      List<Manifest.Offset> offsets = List.of(new Manifest.Offset("prefstream.pairs", 0, 40));
      try (TenantModel model = TenantModel.fresh("acme", config, TrainerMetrics.inMemory())) {
        for (int round = 0; round < 5; round++) {
          for (int i = 0; i < 80; i++) {
            model.addTrain(
                TrainingPair.unweighted("q" + i, "a helpful answer " + i, "no"), System.nanoTime());
          }
          model.trainPending();
        }
        assertThat(model.checkpoint(store, offsets, Map.of()).written()).isTrue(); // the parent
        for (int i = 0; i < holdout; i++) {
          model.addHoldout(TrainingPair.unweighted("h" + i, "a helpful answer h" + i, "no"));
        }
        // It unlearns: the same kind of pairs, the other way round.
        for (int round = 0; round < 10; round++) {
          for (int i = 0; i < 80; i++) {
            model.addTrain(
                TrainingPair.unweighted("r" + i, "no", "a helpful answer r" + i),
                System.nanoTime());
          }
          model.trainPending();
        }
        TenantModel.Evaluation eval = model.evaluate();
        assertThat(eval.accuracy()).isLessThan(eval.parentAccuracy() - 0.5);
        TenantModel.Outcome outcome = model.checkpoint(store, offsets, Map.of());
        if (holdout == 200) {
          assertThat(outcome.written()).isFalse();
          assertThat(outcome.refused())
              .contains("significantly below the parent's", "on 200 pairs", "confidence sequence");
        } else {
          assertThat(outcome.written()).as("8 pairs cannot tell: %s", eval).isTrue();
          assertThat(eval.upper()).isGreaterThanOrEqualTo(-config.gateTolerance());
        }
      }
    }
  }
}
