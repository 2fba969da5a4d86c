package io.prefstream.launcher.ops;

import io.prefstream.avro.CheckpointPublished;
import io.prefstream.model.checkpoint.CheckpointStore;
import io.prefstream.model.checkpoint.Checkpoints;
import io.prefstream.model.checkpoint.Manifest;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import io.prefstream.trainer.OnlineTrainer;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongFunction;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Publishes a checkpoint made elsewhere (an offline run) into a store beside the trainer: verifies
 * it, copies its files in as the next version of the tenant's model (allocated safely against the
 * trainer's own commits), re-seals the manifest for that version, and announces it on
 * prefstream.checkpoints, where the rollout controller takes it as a candidate like any other.
 */
public final class CheckpointPublisher {

  private CheckpointPublisher() {}

  /** What was published: the manifest as sealed in the store, its SHA-256 and its URI. */
  public record Published(Manifest manifest, String sha256, URI uri) {}

  /**
   * @param source a checkpoint directory (with manifest.json), verified before anything is copied
   * @param tenant the tenant to publish for, null for the manifest's
   * @param model the model name to publish as, null for the manifest's
   * @throws IOException when it does not verify or cannot be copied
   */
  public static Published publish(
      CheckpointStore store,
      Path source,
      String tenant,
      String model,
      KafkaProducer<byte[], byte[]> producer,
      Topics topics,
      Duration timeout)
      throws IOException, InterruptedException {
    Manifest given = Checkpoints.verify(source, null);
    if (given.hasDelta()) {
      throw new IOException(
          "checkpoint "
              + given.id()
              + " is a delta on v"
              + given.parent()
              + " (only what changed since it): publish a full checkpoint (trainer"
              + " .full-checkpoint-every=0 writes only full ones)");
    }
    String t = tenant == null ? given.tenant() : tenant;
    String m = model == null ? given.model() : model;
    Path staged = store.newStagingDirectory();
    for (Manifest.FileDigest f : given.files()) {
      Files.copy(source.resolve(f.path()), staged.resolve(f.path()));
    }
    // No parent and no Kafka offsets: it was not trained from any version of the registry (a
    // rollout's arm follows only checkpoints that descend from its candidate).
    LongFunction<Manifest> manifest =
        version ->
            new Manifest(
                Manifest.FORMAT,
                t,
                m,
                version,
                null,
                given.modelType(),
                given.modelConfig(),
                given.featurizerVersion(),
                given.metrics(),
                given.rewardMean(),
                given.rewardStd(),
                given.referenceHistogram(),
                List.of(),
                given.pairsSeen(),
                given.steps(),
                List.of(),
                Instant.now().toString());
    CheckpointStore.Committed committed = store.commitNext(staged, t, m, manifest);
    Checkpoints.Sealed sealed = committed.sealed();
    CheckpointPublished record =
        OnlineTrainer.published(sealed.manifest(), sealed.sha256(), committed.uri().toString());
    Topic<CheckpointPublished> topic = topics.checkpoints();
    try {
      producer
          .send(
              new ProducerRecord<>(
                  topic.name(),
                  topic.key(record).getBytes(StandardCharsets.UTF_8),
                  topic.valueSerde().serialize(topic.name(), record)))
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IOException(
          "committed " + sealed.manifest().id() + " but could not announce it: " + e.getMessage(),
          e);
    }
    return new Published(sealed.manifest(), sealed.sha256(), committed.uri());
  }
}
