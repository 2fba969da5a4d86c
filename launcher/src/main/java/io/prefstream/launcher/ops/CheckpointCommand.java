package io.prefstream.launcher.ops;

import io.prefstream.launcher.ClusterOptions;
import io.prefstream.launcher.KafkaClients;
import io.prefstream.launcher.UserError;
import io.prefstream.model.checkpoint.CheckpointId;
import io.prefstream.model.checkpoint.Checkpoints;
import io.prefstream.model.checkpoint.CorruptCheckpointException;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.model.checkpoint.Manifest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import org.apache.kafka.clients.producer.KafkaProducer;
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
    @Mixin ClusterOptions kafka;

    @Option(names = "--tenant", description = "Publish for this tenant instead of the manifest's.")
    String tenant;

    @Option(names = "--model", description = "Publish as this model instead of the manifest's.")
    String model;

    @Spec CommandSpec spec;

    @Override
    public void run() {
      PrintWriter out = spec.commandLine().getOut();
      DirectoryCheckpointStore s = store.open();
      KafkaClients clients = kafka.clients();
      // The cluster must take our credentials before the checkpoint is committed to the store.
      clients.connectedAdmin().close();
      try (KafkaProducer<byte[], byte[]> producer = clients.producer()) {
        CheckpointPublisher.Published published =
            CheckpointPublisher.publish(
                s,
                source,
                tenant,
                model,
                producer,
                kafka.topics(),
                java.time.Duration.ofSeconds(kafka.timeout().toSeconds() + 30L));
        out.printf(
            "published %s (%s, from %s) as %s; manifest SHA-256 %s%n",
            published.manifest().id(),
            published.manifest().modelType(),
            source,
            published.uri(),
            published.sha256());
      } catch (CorruptCheckpointException e) {
        throw new UserError("refusing to publish " + source + ": " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UserError("interrupted while publishing " + source, e);
      } catch (UserError e) {
        throw e;
      } catch (Exception e) {
        throw new UserError("publishing " + source + " failed: " + e.getMessage(), e);
      }
      out.flush();
    }
  }
}
