package io.prefstream.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RewardModelsTest {

  static ModelSpec small(String type) {
    return ModelSpec.defaults()
        .with(ModelOptions.TYPE, type)
        .with(ModelOptions.BUCKETS, 4096)
        .with(ModelOptions.VOCABULARY, 4096)
        .with(ModelOptions.MAX_TOKENS, 32)
        .with(ModelOptions.HIDDEN, 16)
        .with(ModelOptions.EMBEDDING_DIM, 16)
        .with(ModelOptions.ENCODER_SESSIONS, 1)
        .with(ModelOptions.ENCODER_LAYERS, 1);
  }

  static final List<Candidate> CANDIDATES =
      List.of(
          new Candidate("How do I reverse a list in Python?", "Use reversed(xs) or xs[::-1]."),
          new Candidate("How do I reverse a list in Python?", "- xs.reverse()\n- reversed(xs)"),
          new Candidate("What is an index fund?", ""),
          new Candidate("", "An answer with no question."));

  @ParameterizedTest
  @ValueSource(strings = {"ngram-mlp", "embed-mlp", "encoder", "transformer"})
  void scoresAreFiniteDeterministicAndSurviveASaveAndLoad(String type) throws Exception {
    ModelSpec spec = small(type);
    try (RewardModel model = RewardModels.create(spec, Device.cpu());
        RewardModel copy = RewardModels.create(spec, Device.cpu())) {
      float[] scores = model.score(CANDIDATES);
      assertThat(scores).hasSize(CANDIDATES.size());
      for (float s : scores) {
        assertThat(Float.isFinite(s)).isTrue();
      }
      // Deterministic up to the order of parallel sums.
      assertThat(model.score(CANDIDATES)).containsExactly(scores, within(1e-5f));
      // Batch-independent, up to the last bits (kernels differ by batch size).
      assertThat(model.score(CANDIDATES.subList(1, 2))[0]).isCloseTo(scores[1], within(1e-5f));
      ByteArrayOutputStream saved = new ByteArrayOutputStream();
      model.saveParameters(saved);
      copy.loadParameters(new ByteArrayInputStream(saved.toByteArray()));
      assertThat(copy.score(CANDIDATES)).containsExactly(scores, within(1e-5f));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"embed-mlp", "encoder", "transformer"})
  void parametersOfAnotherModelAreRefused(String type) throws Exception {
    try (RewardModel ngram = RewardModels.create(small("ngram-mlp"), Device.cpu());
        RewardModel other = RewardModels.create(small(type), Device.cpu())) {
      ByteArrayOutputStream saved = new ByteArrayOutputStream();
      ngram.saveParameters(saved);
      assertThatThrownBy(() -> other.loadParameters(new ByteArrayInputStream(saved.toByteArray())))
          .isInstanceOf(java.io.IOException.class);
    }
  }
}
