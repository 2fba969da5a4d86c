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
    TrainerConfig config = small("trainer.batch-size", "16");
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

  private static void train(TenantModel model, int round) throws Exception {
    for (int i = 0; i < 48; i++) {
      model.addTrain(
          TrainingPair.unweighted(
              "round " + round + " question " + i,
              "a helpful answer about topic " + (round * 100 + i),
              "no idea " + i),
          System.nanoTime());
    }
    model.trainPending();
  }

  private static byte[] parameters(TenantModel model) throws Exception {
    var out = new java.io.ByteArrayOutputStream();
    model.learner().saveParameters(out);
    return out.toByteArray();
  }

  /**
   * Checkpoints of an n-gram model are deltas on their parents (the table rows the steps touched
   * and the dense parameters), a full one every trainer.full-checkpoint-every; resuming from a
   * delta composes its chain and is exact (parameters, optimizer state, and the training that
   * follows); a chain with an altered link is refused, by the trainer and by the loader, naming the
   * link.
   */
  @Test
  void deltaCheckpointsHoldWhatChangedAndResumeExactly() throws Exception {
    TrainerConfig config =
        small(
            "trainer.batch-size",
            "16",
            "trainer.replay-share",
            "0",
            "trainer.gate-min-holdout",
            "1000000",
            "trainer.full-checkpoint-every",
            "3");
    TrainerMetrics metrics = TrainerMetrics.inMemory();
    DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir);
    List<Manifest.Offset> offsets = List.of(new Manifest.Offset("prefstream.pairs", 0, 40));
    List<TenantModel.Outcome> written = new ArrayList<>();
    byte[] liveParameters;
    byte[] liveOptimizer;
    long liveSteps;
    try (TenantModel model = TenantModel.fresh("acme", config, metrics)) {
      for (int round = 1; round <= 4; round++) {
        train(model, round);
        TenantModel.Outcome outcome = model.checkpoint(store, offsets, Map.of());
        assertThat(outcome.written()).isTrue();
        written.add(outcome);
      }
      liveParameters = parameters(model);
      liveOptimizer = model.learner().optimizerState();
      liveSteps = model.learner().steps();
    }
    Manifest full = written.get(0).manifest();
    assertThat(full.hasDelta()).isFalse();
    for (int v = 1; v < 4; v++) {
      Manifest m = written.get(v).manifest();
      assertThat(m.hasDelta()).as("v%d", v + 1).isTrue();
      assertThat(m.delta().depth()).isEqualTo(v);
      assertThat(m.delta().parentManifestSha256()).isEqualTo(written.get(v - 1).manifestSha256());
      assertThat(m.files().stream().map(Manifest.FileDigest::path))
          .contains(Manifest.DELTA_FILE, Manifest.OPTIMIZER_DELTA_FILE)
          .doesNotContain(Manifest.PARAMETERS_FILE);
      // 48 pairs touch a few hundred of the 4,096 rows: a fraction of the full checkpoint.
      assertThat(m.metrics().get("changed_rows")).isPositive().isLessThan(4096);
      assertThat(m.metrics().get("checkpoint_bytes"))
          .isLessThan(full.metrics().get("checkpoint_bytes") / 2);
    }

    // Resumed from v4, a delta three deep: the very same state, bit for bit (parameters, AdamW
    // moments, step count). (Training on from there is not compared: libtorch's CPU kernels are
    // not bit-reproducible run to run, after a full checkpoint as after a delta.)
    var restored = TenantModel.restore("acme", config, metrics, store, m -> true, s -> {});
    assertThat(restored).isPresent();
    try (TenantModel model = restored.get()) {
      assertThat(model.parent()).map(Manifest::version).contains(4L);
      assertThat(java.util.Arrays.equals(parameters(model), liveParameters))
          .as("parameters restored exactly")
          .isTrue();
      assertThat(java.util.Arrays.equals(model.learner().optimizerState(), liveOptimizer))
          .as("optimizer moments restored exactly")
          .isTrue();
      assertThat(model.learner().steps()).isEqualTo(liveSteps);
      train(model, 5);
      // The next checkpoint after three deltas is full again.
      TenantModel.Outcome next = model.checkpoint(store, offsets, Map.of());
      assertThat(next.manifest().hasDelta()).isFalse();
    }

    // An altered link: v2's delta. v4 (and v3) are refused naming it; the trainer resumes from
    // v5, the full one; the loader refuses v4.
    Path v2 = store.fetch(new CheckpointId("acme", config.modelName(), 2));
    byte[] delta = Files.readAllBytes(v2.resolve(Manifest.DELTA_FILE));
    delta[delta.length / 2] ^= 0x5a;
    Files.write(v2.resolve(Manifest.DELTA_FILE), delta);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                io.prefstream.model.checkpoint.CheckpointLoader.load(
                    OnlineTrainer.published(
                        written.get(3).manifest(),
                        written.get(3).manifestSha256(),
                        written.get(3).uri().toString()),
                    ai.djl.Device.cpu()))
        .isInstanceOfSatisfying(
            io.prefstream.model.checkpoint.CheckpointLoader.Refused.class,
            refused -> {
              assertThat(refused.kind()).isEqualTo("digest");
              assertThat(refused.getMessage())
                  .contains("delta chain broken at v2", "delta.bin has SHA-256");
            });
    Files.delete(
        store.fetch(new CheckpointId("acme", config.modelName(), 5)).resolve("manifest.json"));
    List<String> problems = new ArrayList<>();
    var fallback = TenantModel.restore("acme", config, metrics, store, m -> true, problems::add);
    assertThat(problems).anySatisfy(p -> assertThat(p).contains("delta chain broken at v2"));
    assertThat(fallback).isPresent();
    try (TenantModel model = fallback.get()) {
      assertThat(model.parent()).map(Manifest::version).contains(1L);
    }
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
          small(
              "trainer.batch-size",
              "16",
              "trainer.gate-min-holdout",
              "0",
              "trainer.holdout-window",
              "1000");
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

  /**
   * When the users' preference flips, the trainer's prequential accuracy falls, the drift test
   * signals, and the reaction (boosted rates, the output layer's more) is recorded in the
   * checkpoint and goes on where it was after a resume.
   */
  @Test
  void aDriftReactionIsRecordedAndGoesOnAfterAResume() throws Exception {
    TrainerConfig config =
        small(
            "trainer.batch-size",
            "50",
            "trainer.gate-min-holdout",
            "1000000",
            "trainer.drift.boost-pairs",
            "100000");
    TrainerMetrics metrics = TrainerMetrics.inMemory();
    DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir);
    List<Manifest.Offset> offsets = List.of(new Manifest.Offset("prefstream.pairs", 0, 40));
    Manifest reacting;
    try (TenantModel model = TenantModel.fresh("acme", config, metrics)) {
      for (int i = 0; i < 2000; i++) {
        boolean flipped = i >= 1000;
        String good = "a short plain answer " + (i % 37);
        String bad = "a long rambling answer with filler " + (i % 41);
        model.addTrain(
            TrainingPair.unweighted("question " + i, flipped ? bad : good, flipped ? good : bad),
            System.nanoTime());
        if (model.pendingCount() == 50) {
          model.trainPending();
        }
      }
      reacting = model.checkpoint(store, offsets, Map.of()).manifest();
    }
    Map<String, Double> m = reacting.metrics();
    assertThat(m.get("drift_signals")).isEqualTo(1.0);
    assertThat(m.get("drift_signal_at_pairs")).isBetween(1000.0, 1500.0);
    assertThat(m.get("learning_rate_boost")).isEqualTo(3.0);
    assertThat(m.get("output_rate_boost")).isEqualTo(10.0);
    // The pairs after the signal's step count down the reaction.
    double after = 2000 - m.get("drift_signal_at_pairs");
    assertThat(m.get(TenantModel.DRIFT_BOOST_LEFT)).isBetween(100000 - after, 100000 - after + 50);

    var restored = TenantModel.restore("acme", config, metrics, store, x -> true, s -> {});
    assertThat(restored).isPresent();
    try (TenantModel model = restored.get()) {
      train(model, 1);
      Map<String, Double> next = model.checkpoint(store, offsets, Map.of()).manifest().metrics();
      assertThat(next.get("drift_signals")).isEqualTo(1.0);
      assertThat(next.get("drift_signal_at_pairs")).isEqualTo(m.get("drift_signal_at_pairs"));
      assertThat(next.get("learning_rate_boost")).isEqualTo(3.0);
      assertThat(next.get(TenantModel.DRIFT_BOOST_LEFT))
          .isEqualTo(m.get(TenantModel.DRIFT_BOOST_LEFT) - 48);
    }
  }

  /** A small n-gram model's trainer (4,096 buckets, 16 hidden units), with these settings too. */
  private static TrainerConfig small(String... keysAndValues) {
    Map<String, String> settings = new java.util.HashMap<>();
    settings.put("model.buckets", "4096");
    settings.put("model.hidden", "16");
    for (int i = 0; i < keysAndValues.length; i += 2) {
      settings.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return TrainerConfig.from(Settings.of(settings));
  }
}
