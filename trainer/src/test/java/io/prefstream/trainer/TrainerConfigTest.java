package io.prefstream.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.config.Settings;
import io.prefstream.model.ModelOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainerConfigTest {

  @Test
  void defaultsAreTheDocumentedOnes() {
    TrainerConfig c = TrainerConfig.defaults();
    assertThat(c.bootstrapServers()).isEqualTo("localhost:9092");
    assertThat(c.store()).isEqualTo(Path.of("checkpoints"));
    assertThat(c.modelName()).isEqualTo("reward");
    assertThat(c.sharedModel()).isEmpty();
    assertThat(c.model().type()).isEqualTo("ngram-mlp");
    assertThat(c.model().get(ModelOptions.BUCKETS)).isEqualTo(131072);
    assertThat(c.model().get(ModelOptions.DROPOUT)).isZero();
    assertThat(c.device()).isEqualTo("auto");
    assertThat(c.engineThreads()).isZero();
    assertThat(c.learner().learningRate()).isEqualTo(3e-3);
    assertThat(c.batchSize()).isEqualTo(128);
    assertThat(c.maxBatchDelay()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.replayShare()).isEqualTo(0.1);
    assertThat(c.checkpointSteps()).isEqualTo(200);
    assertThat(c.checkpointInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.fullCheckpointEvery()).isEqualTo(10);
    assertThat(c.gateTolerance()).isEqualTo(0.02);
    assertThat(c.modelTenant("acme")).isEqualTo("acme");
  }

  @Test
  void settingsOverrideDefaultsAndPassKafkaKeysThrough() {
    TrainerConfig c =
        TrainerConfig.from(
            Settings.of(
                Map.of(
                    "trainer.batch-size", "64",
                    "trainer.checkpoint-interval", "5s",
                    "trainer.shared-model", "everyone",
                    "model.embedding-dim", "16",
                    "model.device", "cpu",
                    "model.engine-threads", "3",
                    "kafka.security.protocol", "SSL")));
    assertThat(c.batchSize()).isEqualTo(64);
    assertThat(c.checkpointInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.modelTenant("acme")).isEqualTo("everyone");
    assertThat(c.model().get(ModelOptions.EMBEDDING_DIM)).isEqualTo(16);
    // Not part of what a model is: where and on how many threads a process runs it.
    assertThat(c.model().config()).doesNotContainKeys("model.device", "model.engine-threads");
    assertThat(c.device()).isEqualTo("cpu");
    assertThat(c.engineThreads()).isEqualTo(3);
    assertThat(c.kafka()).containsEntry("security.protocol", "SSL");
  }

  @Test
  void anEncoderGetsFineTuningDefaultsThatSetKeysOverride() {
    TrainerConfig encoder = TrainerConfig.from(Settings.of(Map.of("model.type", "encoder")));
    assertThat(encoder.learner().learningRate()).isEqualTo(1e-4);
    assertThat(encoder.batchSize()).isEqualTo(32);
    assertThat(encoder.learner().warmupSteps()).isEqualTo(20);
    assertThat(encoder.learner().layerDecay()).isEqualTo(0.9);
    assertThat(encoder.holdoutWindow()).isEqualTo(500);
    assertThat(encoder.checkpointInterval()).isEqualTo(Duration.ofMinutes(2));
    assertThat(encoder.keepCheckpoints()).isEqualTo(5);
    TrainerConfig set =
        TrainerConfig.from(
            Settings.of(
                Map.of(
                    "model.type", "encoder",
                    "trainer.learning-rate", "3e-5",
                    "trainer.freeze-embeddings", "true",
                    "trainer.freeze-layers", "2",
                    "trainer.pass-pairs", "4")));
    assertThat(set.learner().learningRate()).isEqualTo(3e-5);
    assertThat(set.learner().warmupSteps()).isEqualTo(20);
    assertThat(set.learner().freezeEmbeddings()).isTrue();
    assertThat(set.learner().freezeLayers()).isEqualTo(2);
    assertThat(set.learner().passPairs()).isEqualTo(4);
    // other models keep the plain defaults
    TrainerConfig ngram = TrainerConfig.defaults();
    assertThat(ngram.learner().warmupSteps()).isZero();
    assertThat(ngram.learner().layerDecay()).isEqualTo(1.0);
    assertThat(ngram.learner().freezeEmbeddings()).isFalse();
  }

  @Test
  void unknownOrInvalidKeysFailNamingTheKey() {
    assertThatThrownBy(() -> TrainerConfig.from(Settings.of(Map.of("trainer.batchsize", "5"))))
        .hasMessageContaining("trainer.batchsize");
    assertThatThrownBy(() -> TrainerConfig.from(Settings.of(Map.of("model.type", "gpt"))))
        .hasMessageContaining("model.type");
    assertThatThrownBy(() -> TrainerConfig.from(Settings.of(Map.of("trainer.replay-share", "1.5"))))
        .hasMessageContaining("trainer.replay-share");
  }
}
