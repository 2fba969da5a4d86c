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
}
