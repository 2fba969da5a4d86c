package io.prefstream.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import io.prefstream.config.Settings;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import io.prefstream.model.RewardModel;
import io.prefstream.model.RewardModels;
import io.prefstream.model.checkpoint.CheckpointId;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.model.checkpoint.Manifest;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The encoder through the learner and the tenant model: tiny configurations (2 layers, 48 tokens).
 */
class EncoderTrainingTest {

  static final ModelSpec TINY =
      ModelSpec.defaults()
          .with(ModelOptions.TYPE, "encoder")
          .with(ModelOptions.ENCODER_LAYERS, 2)
          .with(ModelOptions.MAX_TOKENS, 48);

  static LearnerSettings settings(double rate, int passPairs) {
    return new LearnerSettings(rate, 0.01, 0.9, 0.999, 1.0, 0.01, 0, 1.0, false, 0, passPairs);
  }

  static Learner learner(ModelSpec spec, LearnerSettings settings) {
    Engine.getEngine("PyTorch").setRandomSeed(5);
    return new Learner(RewardModels.create(spec, Device.cpu()), settings);
  }

  static final String[] TASKS = {
    "bake bread", "fix a flat tyre", "learn Spanish", "plant tomatoes", "write a cover letter",
    "boil an egg", "tie a tie", "clean a laptop screen", "save for retirement", "train a puppy",
    "brew coffee", "start running", "paint a room", "study for an exam", "change a light bulb",
    "make a budget", "sleep better", "write a poem", "fold a shirt", "back up my phone",
    "sharpen a knife", "set up a router", "grow basil", "write a resume", "meditate",
    "iron a shirt", "cook rice", "remove a stain", "learn to swim", "plan a trip",
    "make pancakes", "wash a car", "repot a plant", "stretch after running", "read faster",
    "organise a closet", "negotiate a salary", "fix a leaky tap", "make tea", "learn chess"
  };

  /** A chosen answer that addresses the task against refusals, rudeness or rambling off topic. */
  static List<TrainingPair> pairs(int from, int to, long seed) {
    Random r = new Random(seed);
    String[] rejected = {
      "I can't help with that.",
      "Figure it out yourself, it's not my problem.",
      "Honestly the weather has been strange lately and my cousin keeps talking about his"
          + " football team, which lost again on Sunday, so who knows really.",
      "No."
    };
    List<TrainingPair> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      String task = TASKS[i];
      String prompt = "Human: How do I " + task + "?\n\nAssistant:";
      String chosen =
          "Here is how to "
              + task
              + ": start small, follow the steps carefully, and check your"
              + " progress as you go.";
      for (String bad : rejected) {
        out.add(TrainingPair.unweighted(prompt, chosen, bad));
      }
    }
    Collections.shuffle(out, r);
    return out;
  }

  static double accuracy(Learner learner, List<TrainingPair> pairs) {
    return learner.correct(pairs) / pairs.size();
  }

  static List<TrainingPair> flipped(List<TrainingPair> pairs) {
    return pairs.stream()
        .map(p -> TrainingPair.unweighted(p.prompt(), p.rejected(), p.chosen()))
        .toList();
  }

  /**
   * Trained on 30 tasks, judged on 10 others: the labels lift accuracy far above chance, and the
   * same run on flipped labels drives it far below: a gradient that is zero, of the wrong sign or
   * not reaching the encoder could not do both.
   */
  @Test
  void aShortFineTuneLearnsAPreferenceThatABrokenGradientCouldNot() {
    List<TrainingPair> train = pairs(0, 30, 1);
    List<TrainingPair> holdout = pairs(30, 40, 2);
    double[] accuracy = new double[2];
    for (int run = 0; run < 2; run++) {
      List<TrainingPair> labels = run == 0 ? train : flipped(train);
      try (Learner learner = learner(TINY, settings(2e-4, 8))) {
        for (int epoch = 0; epoch < 3; epoch++) {
          for (int from = 0; from < labels.size(); from += 16) {
            Learner.Step step =
                learner.step(labels.subList(from, Math.min(labels.size(), from + 16)), List.of());
            assertThat(step.applied()).as(step.skipped()).isTrue();
          }
        }
        accuracy[run] = accuracy(learner, holdout);
        assertThat(learner.finite()).isTrue();
      }
    }
    assertThat(accuracy[0]).as("trained on the labels").isGreaterThanOrEqualTo(0.85);
    assertThat(accuracy[1]).as("trained on flipped labels").isLessThanOrEqualTo(0.15);
  }

  /** A step in passes of one pair accumulates the gradient of the whole batch in one pass. */
  @Test
  void gradientsAccumulatedOverPassesAddUpToOnePassOverTheBatch() {
    List<TrainingPair> batch = pairs(0, 3, 3);
    Learner.Step[] steps = new Learner.Step[2];
    int[] passPairs = {64, 1};
    for (int i = 0; i < 2; i++) {
      try (Learner learner = learner(TINY, settings(1e-4, passPairs[i]))) {
        steps[i] = learner.step(batch.subList(0, 8), batch.subList(8, 12));
      }
    }
    assertThat(steps[1].loss()).isCloseTo(steps[0].loss(), within(1e-5));
    assertThat(steps[1].gradientNorm())
        .isCloseTo(steps[0].gradientNorm(), within(1e-4 * steps[0].gradientNorm()));
    assertThat(steps[1].freshCorrect()).isEqualTo(steps[0].freshCorrect());
  }

  @Test
  void frozenGroupsStayAsPretrainedAndLowerLayersTakeSmallerSteps() {
    LearnerSettings layered = new LearnerSettings(1e-3, 0.0, 0.9, 0.999, 0, 0, 0, 0.5, true, 1, 0);
    try (Learner learner = learner(TINY, layered)) {
      RewardModel model = learner.model();
      List<List<Parameter>> groups = model.parameterGroups();
      assertThat(groups).hasSize(4); // embeddings, 2 layers, head
      List<float[]> before = snapshot(groups);
      assertThat(learner.step(pairs(0, 4, 4), List.of()).applied()).isTrue();
      List<float[]> after = snapshot(groups);
      // Embeddings and layer 0 frozen; Adam's first step moves every weight by about its rate:
      // layer 1 at 0.5 of the head's.
      assertThat(largestChange(before.get(0), after.get(0))).isZero();
      assertThat(largestChange(before.get(1), after.get(1))).isZero();
      assertThat(largestChange(before.get(2), after.get(2))).isCloseTo(0.5e-3, within(0.05e-3));
      assertThat(largestChange(before.get(3), after.get(3))).isCloseTo(1e-3, within(0.1e-3));
    }
  }

  private static List<float[]> snapshot(List<List<Parameter>> groups) {
    List<float[]> out = new ArrayList<>();
    for (List<Parameter> g : groups) {
      List<Float> values = new ArrayList<>();
      for (Parameter p : g) {
        NDArray a = p.getArray();
        if (a.size() < 100_000) { // the small tensors carry the signal; skip the big tables
          for (float f : a.toFloatArray()) {
            values.add(f);
          }
        }
      }
      float[] flat = new float[values.size()];
      for (int i = 0; i < flat.length; i++) {
        flat[i] = values.get(i);
      }
      out.add(flat);
    }
    return out;
  }

  private static double largestChange(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }

  @Test
  void theLearningRateWarmsUpThenHoldsOnlineOrDecaysToZeroOffline() {
    LearnerSettings warm = settings(1e-4, 0).withLearningRate(1e-4, 4);
    try (Learner learner = learner(TINY, warm)) {
      assertThat(learner.rate()).isEqualTo(0.25);
      List<TrainingPair> pairs = pairs(0, 1, 5);
      for (int i = 0; i < 4; i++) {
        learner.step(pairs, List.of());
      }
      assertThat(learner.rate()).isEqualTo(1.0);
      learner.decayUntil(8);
      assertThat(learner.rate()).isEqualTo(1.0);
      learner.step(pairs, List.of());
      learner.step(pairs, List.of());
      assertThat(learner.rate()).isEqualTo(0.5);
      learner.step(pairs, List.of());
      learner.step(pairs, List.of());
      assertThat(learner.rate()).isZero();
    }
  }

  @Test
  void layerOptionsAreRefusedForModelsWithoutLayers() {
    LearnerSettings freeze = new LearnerSettings(1e-3, 0, 0.9, 0.999, 1, 0, 0, 1.0, true, 0, 0);
    ModelSpec ngram = ModelSpec.defaults().with(ModelOptions.BUCKETS, 1024);
    assertThatThrownBy(() -> learner(ngram, freeze))
        .hasMessageContaining("trainer.freeze-embeddings")
        .hasMessageContaining("ngram-mlp has no layers");
    assertThatThrownBy(() -> learner(ngram, settings(1e-3, 4)))
        .hasMessageContaining("trainer.pass-pairs");
  }

  @Test
  void aTrainerRefusesFp16AndAnFp16ModelRefusesToTrain() {
    assertThatThrownBy(() -> TrainerConfig.from(Settings.of(Map.of("model.precision", "fp16"))))
        .hasMessageContaining("trains in fp32");
    try (Learner learner =
        new Learner(RewardModels.create(TINY, Device.cpu(), "fp16"), settings(2e-4, 8))) {
      for (float score : learner.scores(pairs(0, 1, 6))) {
        assertThat(Float.isFinite(score)).isTrue();
      }
      assertThatThrownBy(() -> learner.step(pairs(0, 1, 6), List.of()))
          .hasMessageContaining("fp16 is for scoring");
    }
  }

  @Test
  void aCheckpointResumesWithTheSameParametersAndOptimizerState(@TempDir Path dir)
      throws Exception {
    TrainerConfig config =
        TrainerConfig.from(
            Settings.of(
                Map.of(
                    "model.type", "encoder",
                    "model.encoder-layers", "1",
                    "model.max-tokens", "32",
                    "trainer.freeze-embeddings", "true",
                    "trainer.batch-size", "8")));
    TrainerMetrics metrics = TrainerMetrics.inMemory();
    DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir);
    byte[] parameters;
    byte[] optimizer;
    try (TenantModel model = TenantModel.fresh("acme", config, metrics)) {
      for (TrainingPair p : pairs(0, 4, 7)) {
        model.addTrain(p, 0);
      }
      for (TrainingPair p : pairs(4, 6, 8)) {
        model.addHoldout(p);
      }
      model.trainPending();
      TenantModel.Outcome outcome =
          model.checkpoint(
              store, List.of(new Manifest.Offset("prefstream.pairs", 0, 16)), Map.of());
      assertThat(outcome.written()).isTrue();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      model.learner().saveParameters(out);
      parameters = out.toByteArray();
      optimizer = model.learner().optimizerState();
    }
    CheckpointId id = store.list("acme", config.modelName()).get(0);
    Path checkpoint = store.fetch(id);
    assertThat(checkpoint.resolve("config.json")).exists();
    assertThat(checkpoint.resolve("tokenizer.json")).exists();
    // Frozen embeddings keep no optimizer moments: the optimizer state is a fraction of the model.
    assertThat(Files.size(checkpoint.resolve(TenantModel.OPTIMIZER)))
        .isLessThan(Files.size(checkpoint.resolve(TenantModel.PARAMETERS)));
    var restored = TenantModel.restore("acme", config, metrics, store, m -> true, problem -> {});
    assertThat(restored).isPresent();
    try (TenantModel model = restored.get()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      model.learner().saveParameters(out);
      assertThat(out.toByteArray()).isEqualTo(parameters);
      assertThat(model.learner().optimizerState()).isEqualTo(optimizer);
      assertThat(model.learner().steps()).isEqualTo(2);
      assertThat(model.pairsSeen()).isEqualTo(16);
      // and it trains on from there
      for (TrainingPair p : pairs(6, 8, 9)) {
        model.addTrain(p, 0);
      }
      model.trainPending();
      assertThat(model.learner().steps()).isEqualTo(3);
    }
  }
}
