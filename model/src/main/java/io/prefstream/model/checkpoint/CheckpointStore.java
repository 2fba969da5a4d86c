package io.prefstream.model.checkpoint;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongFunction;

/**
 * Where checkpoints live: a directory by default ({@link DirectoryCheckpointStore}); an object
 * store implements the same contract (upload the files, then the manifest last, so a checkpoint is
 * visible only whole).
 */
public interface CheckpointStore {

  /** A fresh local directory to write a new checkpoint's files into before {@link #commit}. */
  Path newStagingDirectory() throws IOException;

  /**
   * Makes a staged checkpoint (its files and {@code manifest.json}) visible under {@code id}, all
   * at once: a reader sees it whole or not at all.
   *
   * @throws java.nio.file.FileAlreadyExistsException if {@code id} already exists, also when
   *     another writer committed it at the same moment
   */
  URI commit(Path staged, CheckpointId id) throws IOException;

  /** The versions of one tenant's model in the store, oldest first. */
  List<CheckpointId> list(String tenant, String model) throws IOException;

  /** Every checkpoint in the store, by tenant, model and version. */
  List<CheckpointId> listAll() throws IOException;

  /** A checkpoint as committed: its sealed manifest and where it lies. */
  record Committed(Checkpoints.Sealed sealed, URI uri) {}

  /**
   * Seals the staged files as the next version of {@code tenant}/{@code model} and commits them.
   * Versions are allocated safely among writers (the trainer, {@code checkpoint publish}, a second
   * trainer over the same store): when another writer commits the version first, the staged files
   * are sealed again as the version after it and committed again.
   *
   * @param manifestFor the manifest for a version (its file list is filled in by sealing)
   */
  default Committed commitNext(
      Path staged, String tenant, String model, LongFunction<Manifest> manifestFor)
      throws IOException {
    for (int attempt = 1; ; attempt++) {
      List<CheckpointId> existing = list(tenant, model);
      long version = existing.isEmpty() ? 1 : existing.get(existing.size() - 1).version() + 1;
      Checkpoints.Sealed sealed = Checkpoints.seal(staged, manifestFor.apply(version));
      try {
        return new Committed(sealed, commit(staged, sealed.manifest().id()));
      } catch (FileAlreadyExistsException e) {
        if (attempt >= MAX_COMMIT_ATTEMPTS) {
          throw new IOException(
              "could not allocate a version of "
                  + tenant
                  + "/"
                  + model
                  + " in "
                  + MAX_COMMIT_ATTEMPTS
                  + " attempts: other writers kept taking them",
              e);
        }
        // Jittered, growing backoff: writers that collide spread out instead of colliding again
        // in step (with none, a writer on a busy machine lost 20 times running).
        try {
          Thread.sleep(ThreadLocalRandom.current().nextLong(1, 2L << Math.min(attempt, 6)));
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException(
              "interrupted allocating a version of " + tenant + "/" + model);
        }
      }
    }
  }

  /** How often {@link #commitNext} seals again for a version another writer took. */
  int MAX_COMMIT_ATTEMPTS = 20;

  /**
   * Deletes a checkpoint: readers see it whole until it is gone, never half-deleted. Deleting one
   * that is not there does nothing.
   */
  void delete(CheckpointId id) throws IOException;

  /** A local directory with the checkpoint's files (a download for a remote store). */
  Path fetch(CheckpointId id) throws IOException;

  /** Where a checkpoint lies, as announced on prefstream.checkpoints. */
  URI uri(CheckpointId id);
}
