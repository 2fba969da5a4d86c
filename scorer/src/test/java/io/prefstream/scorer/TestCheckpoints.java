package io.prefstream.scorer;

import ai.djl.Device;
import ai.djl.nn.Parameter;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.Split;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import io.prefstream.model.RewardModels;
import io.prefstream.model.checkpoint.CheckpointId;
import io.prefstream.model.checkpoint.Checkpoints;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.model.checkpoint.Manifest;
import io.prefstream.model.ngram.NgramFeaturizer;
import io.prefstream.model.ngram.NgramMlp;
import io.prefstream.schemas.Topics;
import io.prefstream.simulator.DirectPairs;
import io.prefstream.trainer.Learner;
import io.prefstream.trainer.LearnerSettings;
import io.prefstream.trainer.OnlineTrainer;
import io.prefstream.trainer.TrainingPair;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Real checkpoints for the scorer's tests: an n-gram model trained with the trainer's learner on
 * the simulated product's pairs (or on them with labels flipped), written to a directory store with
 * its manifest and digests, and announced on prefstream.checkpoints as the trainer does.
 */
final class TestCheckpoints {

  /** How a test checkpoint is made. */
  enum Kind {
    GOOD,
    FLIPPED,
    NAN,
    COLLAPSED,
    TAMPERED
  }

  static final ModelSpec SPEC =
      ModelSpec.defaults().with(ModelOptions.BUCKETS, 16384).with(ModelOptions.HIDDEN, 32);

  private TestCheckpoints() {}

  /** The simulated product's pairs; every {@code holdoutEvery}-th interaction is HOLDOUT. */
  static List<PreferencePair> pairs(String tenant, long seed, int n, int holdoutEvery) {
    return DirectPairs.simulated(tenant, seed, n, holdoutEvery);
  }

  static List<PreferencePair> holdout(String tenant, long seed, int n) {
    List<PreferencePair> all = pairs(tenant, seed, n, 1);
    all.forEach(p -> p.setSplit(Split.HOLDOUT));
    return all;
  }

  /** Trains on {@code pairs} (two passes) and publishes the result as the next version. */
  static CheckpointPublished publish(
      DirectoryCheckpointStore store,
      Producer<String, byte[]> producer,
      Topics topics,
      String tenant,
      String model,
      List<PreferencePair> pairs,
      Kind kind)
      throws Exception {
    return publish(store, producer, topics, tenant, model, pairs, kind, SPEC);
  }

  /** A tiny pretrained encoder (MiniLM's lowest layer, 32 tokens) for tests that serve one. */
  static final ModelSpec ENCODER =
      ModelSpec.defaults()
          .with(ModelOptions.TYPE, "encoder")
          .with(ModelOptions.ENCODER_LAYERS, 1)
          .with(ModelOptions.MAX_TOKENS, 32);

  /** As above, for a model of {@code spec} (its assets written beside its parameters). */
  static CheckpointPublished publish(
      DirectoryCheckpointStore store,
      Producer<String, byte[]> producer,
      Topics topics,
      String tenant,
      String model,
      List<PreferencePair> pairs,
      Kind kind,
      ModelSpec spec)
      throws Exception {
    return publish(store, producer, topics, tenant, model, pairs, kind, spec, List.of());
  }

  /**
   * As above, recording that the model was trained through {@code offsets} (next offset to read per
   * partition), as the online trainer records its consumer's positions.
   */
  static CheckpointPublished publish(
      DirectoryCheckpointStore store,
      Producer<String, byte[]> producer,
      Topics topics,
      String tenant,
      String model,
      List<PreferencePair> pairs,
      Kind kind,
      ModelSpec spec,
      List<Manifest.Offset> offsets)
      throws Exception {
    List<TrainingPair> train = new ArrayList<>();
    for (PreferencePair p : pairs) {
      TrainingPair t = TrainingPair.of(p);
      train.add(
          kind == Kind.FLIPPED
              ? new TrainingPair(t.prompt(), t.rejected(), t.chosen(), t.weight(), t.margin())
              : t);
    }
    // One seed for every version: GOOD checkpoints trained on the same pairs are the same model,
    // so a rollout of one against another is decided by the statistics' guarantees, not by how
    // far two random initialisations happen to differ.
    ai.djl.engine.Engine.getInstance().setRandomSeed(20261204);
    boolean encoder = spec.type().equals("encoder");
    LearnerSettings settings =
        encoder ? LearnerSettings.defaults().withLearningRate(1e-4, 2) : LearnerSettings.defaults();
    try (Learner learner =
        new Learner(
            encoder ? RewardModels.create(spec, Device.cpu()) : new NgramMlp(spec, Device.cpu()),
            settings)) {
      for (int epoch = 0; epoch < 2; epoch++) {
        for (int from = 0; from < train.size(); from += 64) {
          learner.step(train.subList(from, Math.min(train.size(), from + 64)), List.of());
        }
      }
      float[] scores = learner.scores(train.subList(0, Math.min(500, train.size())));
      double mean = 0;
      for (float s : scores) {
        mean += s / scores.length;
      }
      double var = 0;
      for (float s : scores) {
        var += (s - mean) * (s - mean) / scores.length;
      }
      List<Parameter> params = learner.model().parameters();
      if (kind == Kind.NAN) {
        params.get(params.size() - 1).getArray().muli(Float.NaN); // the output bias
      } else if (kind == Kind.COLLAPSED) {
        for (Parameter p : params) {
          p.getArray().muli(0);
        }
      }
      long version = store.list(tenant, model).size() + 1;
      Path staged = store.newStagingDirectory();
      ByteArrayOutputStream parameters = new ByteArrayOutputStream();
      learner.saveParameters(parameters);
      Files.write(staged.resolve(Manifest.PARAMETERS_FILE), parameters.toByteArray());
      learner.model().saveAssets(staged);
      Manifest manifest =
          new Manifest(
              Manifest.FORMAT,
              tenant,
              model,
              version,
              null, // trained on its own, not from a version of the registry
              spec.type(),
              spec.config(),
              NgramFeaturizer.VERSION,
              Map.of("kind", (double) kind.ordinal()),
              mean,
              Math.sqrt(var) > 0 ? Math.sqrt(var) : 1,
              null,
              offsets,
              train.size(),
              learner.steps(),
              List.of(),
              Instant.now().toString());
      Checkpoints.Sealed sealed = Checkpoints.seal(staged, manifest);
      URI uri = store.commit(staged, new CheckpointId(tenant, model, version));
      if (kind == Kind.TAMPERED) {
        Path file =
            store.fetch(new CheckpointId(tenant, model, version)).resolve(Manifest.PARAMETERS_FILE);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(file, bytes);
      }
      CheckpointPublished published =
          OnlineTrainer.published(sealed.manifest(), sealed.sha256(), uri.toString());
      producer
          .send(
              new ProducerRecord<>(
                  topics.checkpoints().name(),
                  topics.checkpoints().key(published),
                  topics
                      .checkpoints()
                      .valueSerde()
                      .serialize(topics.checkpoints().name(), published)))
          .get();
      return published;
    }
  }
}
