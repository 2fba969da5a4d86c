package io.prefstream.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.Split;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import io.prefstream.model.RewardModels;
import io.prefstream.simulator.DirectPairs;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LearnerTest {

  static final ModelSpec SMALL =
      ModelSpec.defaults().with(ModelOptions.BUCKETS, 1 << 12).with(ModelOptions.HIDDEN, 32);

  static Learner learner(ModelSpec spec, LearnerSettings settings) {
    Engine.getEngine("PyTorch").setRandomSeed(11);
    return new Learner(RewardModels.create(spec, Device.cpu()), settings);
  }

  private static final TrainingPair PAIR =
      TrainingPair.unweighted(
          "How do I sleep better?",
          "Keep a steady bedtime.\n- no screens late\n- a cool, dark room",
          "Just sleep.");

  @Test
  void aStepMovesTheChosenRewardAboveTheRejected() {
    try (Learner learner = learner(SMALL, LearnerSettings.defaults())) {
      float[] before = learner.scores(List.of(PAIR));
      for (int i = 0; i < 5; i++) {
        assertThat(learner.step(List.of(PAIR), List.of()).applied()).isTrue();
      }
      float[] after = learner.scores(List.of(PAIR));
      assertThat(after[0] - after[1]).isGreaterThan(before[0] - before[1]);
      assertThat(learner.steps()).isEqualTo(5);
    }
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"embed-mlp", "transformer"})
  void everyModelTypeLearnsThePairItIsShown(String type) {
    ModelSpec spec = small(type);
    try (Learner learner = learner(spec, LearnerSettings.defaults())) {
      float[] before = learner.scores(List.of(PAIR));
      for (int i = 0; i < 10; i++) {
        assertThat(learner.step(List.of(PAIR), List.of()).applied()).isTrue();
      }
      float[] after = learner.scores(List.of(PAIR));
      assertThat(after[0] - after[1]).isGreaterThan(before[0] - before[1]);
      assertThat(learner.finite()).isTrue();
    }
  }

  /**
   * The drift reaction's output-layer boost finds the layer that produces the reward (a final
   * one-unit Linear: weight and bias) in every model type.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(
      strings = {"ngram-mlp", "embed-mlp", "transformer"})
  void theOutputLayerIsTheFinalOneUnitLinear(String type) {
    ModelSpec spec = small(type);
    try (Learner learner = learner(spec, LearnerSettings.defaults())) {
      var output = learner.outputLayer();
      assertThat(output).hasSize(2);
      assertThat(output).allSatisfy(p -> assertThat(p.getArray().getShape().get(0)).isEqualTo(1));
      assertThat(output.stream().map(p -> p.getArray().getShape().dimension()))
          .containsExactlyInAnyOrder(1, 2);
      learner.boostRate(3, 10);
      assertThat(learner.step(List.of(PAIR), List.of()).applied()).isTrue();
      learner.boostRate(1, 1);
      assertThat(learner.step(List.of(PAIR), List.of()).applied()).isTrue();
    }
  }

  /**
   * A trainer is a long-running service: a step, a checkpoint's finiteness check and scoring leave
   * no array behind in the model's manager (a gradient's square once stayed there every step).
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"ngram-mlp", "encoder"})
  void stepsLeaveNoArraysBehind(String type) {
    ModelSpec spec =
        SMALL
            .with(ModelOptions.TYPE, type)
            .with(ModelOptions.ENCODER_LAYERS, 1)
            .with(ModelOptions.MAX_TOKENS, 32);
    try (Learner learner = learner(spec, LearnerSettings.defaults().withLearningRate(1e-4, 2))) {
      ai.djl.ndarray.NDManager manager =
          learner.model().parameters().get(0).getArray().getManager();
      learner.step(List.of(PAIR, PAIR), List.of(PAIR));
      learner.finite();
      learner.scores(List.of(PAIR));
      int arrays = manager.getManagedArrays().size();
      for (int i = 0; i < 5; i++) {
        assertThat(learner.step(List.of(PAIR, PAIR), List.of(PAIR)).applied()).isTrue();
        assertThat(learner.finite()).isTrue();
        learner.scores(List.of(PAIR));
      }
      assertThat(manager.getManagedArrays()).hasSize(arrays);
    }
  }

  /** PyTorch's grad mode is per thread: a step on a new thread must not record the update. */
  @Test
  void trainsOnThreadsOtherThanTheOneThatStartedTheEngine() throws Exception {
    try (Learner learner = learner(SMALL, LearnerSettings.defaults())) {
      for (int i = 0; i < 3; i++) {
        var step =
            java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> learner.step(List.of(PAIR), List.of(PAIR)),
                    java.util.concurrent.Executors.newSingleThreadExecutor())
                .get();
        assertThat(step.applied()).isTrue();
      }
      assertThat(learner.steps()).isEqualTo(3);
    }
  }

  @Test
  void twoLearnersInOneProcessTrainAtTheSameTimeTakingTurnsForGradients() throws Exception {
    try (Learner a = learner(SMALL, LearnerSettings.defaults());
        Learner b = learner(SMALL, LearnerSettings.defaults())) {
      java.util.concurrent.ExecutorService pool =
          java.util.concurrent.Executors.newFixedThreadPool(2);
      try {
        List<java.util.concurrent.Future<Long>> runs = new java.util.ArrayList<>();
        for (Learner l : List.of(a, b)) {
          runs.add(
              pool.submit(
                  () -> {
                    long applied = 0;
                    for (int i = 0; i < 40; i++) {
                      applied += l.step(List.of(PAIR), List.of(PAIR)).applied() ? 1 : 0;
                    }
                    return applied;
                  }));
        }
        for (var run : runs) {
          assertThat(run.get(2, java.util.concurrent.TimeUnit.MINUTES)).isEqualTo(40);
        }
      } finally {
        pool.shutdown();
      }
    }
  }

  @Test
  void theMarginAsksForALargerGap() {
    TrainingPair withMargin = new TrainingPair(PAIR.prompt(), PAIR.chosen(), PAIR.rejected(), 1, 3);
    try (Learner plain = learner(SMALL, LearnerSettings.defaults());
        Learner margin = learner(SMALL, LearnerSettings.defaults())) {
      Learner.Step a = plain.step(List.of(PAIR), List.of());
      Learner.Step b = margin.step(List.of(withMargin), List.of());
      assertThat(b.loss()).isGreaterThan(a.loss());
    }
  }

  @Test
  void aNonFiniteLossSkipsTheStepAndChangesNothing() {
    TrainingPair poisoned =
        new TrainingPair(PAIR.prompt(), PAIR.chosen(), PAIR.rejected(), Double.NaN, 0);
    try (Learner learner = learner(SMALL, LearnerSettings.defaults())) {
      float[] before = learner.scores(List.of(PAIR));
      Learner.Step step = learner.step(List.of(poisoned), List.of());
      assertThat(step.applied()).isFalse();
      assertThat(step.skipped()).isEqualTo("non-finite loss");
      assertThat(learner.steps()).isZero();
      assertThat(learner.scores(List.of(PAIR))).containsExactly(before);
      assertThat(learner.finite()).isTrue();
      // and the next good step still works
      assertThat(learner.step(List.of(PAIR), List.of()).applied()).isTrue();
    }
  }

  @Test
  void prequentialOutcomeIsScoredBeforeLearning() {
    try (Learner learner = learner(SMALL, LearnerSettings.defaults())) {
      float[] before = learner.scores(List.of(PAIR));
      double expected = before[0] > before[1] ? 1 : 0;
      assertThat(learner.step(List.of(PAIR), List.of()).freshCorrect()).isEqualTo(expected);
    }
  }

  /** A loose floor that catches a broken learner: a few thousand noisy simulated pairs suffice. */
  @Test
  void learnsTheSimulatedUsersPreferences() {
    Simulator simulator =
        new Simulator(SimulatorConfig.defaults(Instant.parse("2026-01-01T00:00:00Z")));
    List<PreferencePair> pairs = new DirectPairs(simulator, 10).next(8000);
    List<TrainingPair> train = new ArrayList<>();
    List<PreferencePair> fresh = new ArrayList<>();
    for (PreferencePair p : pairs) {
      if (p.getSplit() == Split.TRAIN) {
        train.add(TrainingPair.of(p));
      } else {
        fresh.add(p);
      }
    }
    try (Learner learner = learner(ModelSpec.defaults(), LearnerSettings.defaults())) {
      for (int i = 0; i < train.size(); i += 256) {
        learner.step(train.subList(i, Math.min(train.size(), i + 256)), List.of());
      }
      List<TrainingPair> eval = fresh.stream().map(TrainingPair::of).toList();
      float[] scores = learner.scores(eval);
      int agree = 0;
      int n = 0;
      for (int i = 0; i < eval.size(); i++) {
        PreferencePair p = fresh.get(i);
        double chosen = simulator.trueUtility(p.getPrompt(), p.getChosen(), p.getEventTime());
        double rejected = simulator.trueUtility(p.getPrompt(), p.getRejected(), p.getEventTime());
        if (chosen != rejected) {
          n++;
          agree += (scores[i] > scores[eval.size() + i]) == (chosen > rejected) ? 1 : 0;
        }
      }
      assertThat(n).isGreaterThan(300);
      assertThat((double) agree / n).isGreaterThan(0.8);
    }
  }

  /** A small model of a type (4,096-word vocabulary, 32 tokens, 16 dimensions, one session). */
  private static ModelSpec small(String type) {
    return SMALL
        .with(ModelOptions.TYPE, type)
        .with(ModelOptions.VOCABULARY, 4096)
        .with(ModelOptions.MAX_TOKENS, 32)
        .with(ModelOptions.EMBEDDING_DIM, 16)
        .with(ModelOptions.ENCODER_SESSIONS, 1);
  }
}
