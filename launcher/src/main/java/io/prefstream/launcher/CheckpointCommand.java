package io.prefstream.launcher;

import io.prefstream.avro.CheckpointPublished;
import io.prefstream.model.checkpoint.CheckpointId;
import io.prefstream.model.checkpoint.CheckpointStore;
import io.prefstream.model.checkpoint.Checkpoints;
import io.prefstream.model.checkpoint.CorruptCheckpointException;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.model.checkpoint.Manifest;
import io.prefstream.schemas.Topic;
import io.prefstream.trainer.OnlineTrainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code checkpoint list|publish}: the checkpoint store from the command line. */
@Command(
    name = "checkpoint",
    mixinStandardHelpOptions = true,
    subcommands = {CheckpointCommand.List.class, CheckpointCommand.Publish.class},
    description = "List the checkpoint store, or publish a checkpoint directory into it.")
public final class CheckpointCommand implements Runnable {

  @Override
  public void run() {
    throw new UserError("name a subcommand: list, publish (./prefstream checkpoint --help)");
  }

  /** The store option shared by the subcommands. */
  static final class StoreOption {
    @Option(
        names = "--store",
        paramLabel = "DIR",
        defaultValue = "${env:PREFSTREAM_TRAINER_STORE:-checkpoints}",
        description =
            "Checkpoint store directory (env PREFSTREAM_TRAINER_STORE; `up` keeps its store in"
                + " DATA_DIR/checkpoints). Default: ${DEFAULT-VALUE}.")
    Path store;

    DirectoryCheckpointStore open() {
      try {
        return new DirectoryCheckpointStore(store);
      } catch (IOException e) {
        throw new UserError("cannot open the checkpoint store " + store + ": " + e.getMessage(), e);
      }
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Every checkpoint in the store with its figures and whether it verifies.")
  static final class List implements Runnable {
    @Mixin StoreOption store;
    @Spec CommandSpec spec;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      DirectoryCheckpointStore s = store.open();
      try {
        java.util.List<CheckpointId> ids = s.listAll();
        if (ids.isEmpty()) {
          out.println("no checkpoints in " + s.root());
        }
        for (CheckpointId id : ids) {
          try {
            Manifest m = Checkpoints.verify(s.fetch(id), null);
            out.printf(
                "%-28s %-10s parent %-5s pairs %-9d holdout %-7s prequential %-7s %s%n",
                id,
                m.modelType(),
                m.parent() == null ? "-" : m.parent(),
                m.pairsSeen(),
                figure(m, "holdout_accuracy"),
                figure(m, "prequential_accuracy"),
                m.createdAt());
          } catch (CorruptCheckpointException e) {
            out.printf("%-28s CORRUPT: %s%n", id, e.getMessage());
          }
        }
      } catch (IOException e) {
        throw new UserError("cannot list " + s.root() + ": " + e.getMessage(), e);
      }
      out.flush();
    }

    private static String figure(Manifest m, String key) {
      Double v = m.metrics().get(key);
      return v == null ? "-" : String.format("%.4f", v);
    }
  }

  @Command(
      name = "publish",
      mixinStandardHelpOptions = true,
      description =
          "Verify a checkpoint directory (e.g. from `train`), copy it into the store as the next"
              + " version of its tenant's model, and announce it on prefstream.checkpoints.")
  static final class Publish implements Runnable {
    @Parameters(paramLabel = "DIR", description = "The checkpoint directory (with manifest.json).")
    Path source;

    @Mixin StoreOption store;
    @Mixin KafkaOptions kafka;

    @Option(names = "--tenant", description = "Publish for this tenant instead of the manifest's.")
    String tenant;

    @Option(names = "--model", description = "Publish as this model instead of the manifest's.")
    String model;

    @Spec CommandSpec spec;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      Manifest source;
      try {
        source = Checkpoints.verify(this.source, null);
      } catch (IOException e) {
        throw new UserError("refusing to publish " + this.source + ": " + e.getMessage(), e);
      }
      DirectoryCheckpointStore s = store.open();
      String t = tenant == null ? source.tenant() : tenant;
      String m = model == null ? source.model() : model;
      try (KafkaProducer<byte[], byte[]> producer = kafka.clients().producer()) {
        Checkpoints.Sealed sealed = copy(s, this.source, source, t, m);
        Manifest published = sealed.manifest();
        String sha = sealed.sha256();
        CheckpointPublished record =
            OnlineTrainer.published(published, sha, s.uri(published.id()).toString());
        Topic<CheckpointPublished> topic = kafka.topics().checkpoints();
        producer
            .send(
                new ProducerRecord<>(
                    topic.name(),
                    topic.key(record).getBytes(StandardCharsets.UTF_8),
                    topic.valueSerde().serialize(topic.name(), record)))
            .get(kafka.timeoutSeconds + 30L, TimeUnit.SECONDS);
        out.printf(
            "published %s (%s, from %s) as %s; manifest SHA-256 %s%n",
            published.id(), published.modelType(), this.source, s.uri(published.id()), sha);
      } catch (UserError e) {
        throw e;
      } catch (Exception e) {
        throw new UserError("publishing " + this.source + " failed: " + e.getMessage(), e);
      }
      out.flush();
    }

    /** The checkpoint's files under the next version, its manifest re-sealed for it. */
    private static Checkpoints.Sealed copy(
        CheckpointStore store, Path sourceDir, Manifest source, String tenant, String model)
        throws IOException {
      Path staged = store.newStagingDirectory();
      for (Manifest.FileDigest f : source.files()) {
        Files.copy(sourceDir.resolve(f.path()), staged.resolve(f.path()));
      }
      // The next version, allocated safely beside a running trainer; its parent the one before.
      java.util.function.LongFunction<Manifest> manifest =
          version ->
              new Manifest(
                  Manifest.FORMAT,
                  tenant,
                  model,
                  version,
                  version > 1 ? version - 1 : null,
                  source.modelType(),
                  source.modelConfig(),
                  source.featurizerVersion(),
                  source.metrics(),
                  source.rewardMean(),
                  source.rewardStd(),
                  source.referenceHistogram(),
                  java.util.List.of(),
                  source.pairsSeen(),
                  source.steps(),
                  java.util.List.of(),
                  Instant.now().toString());
      return store.commitNext(staged, tenant, model, manifest).sealed(); // digests of the copies
    }
  }
}
