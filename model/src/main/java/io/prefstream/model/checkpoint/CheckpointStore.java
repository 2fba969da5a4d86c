package io.prefstream.model.checkpoint;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

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
   * at once: a reader sees it whole or not at all. Fails if {@code id} already exists.
   */
  URI commit(Path staged, CheckpointId id) throws IOException;

  /** The versions of one tenant's model in the store, oldest first. */
  List<CheckpointId> list(String tenant, String model) throws IOException;

  /** Every checkpoint in the store, by tenant, model and version. */
  List<CheckpointId> listAll() throws IOException;

  /** A local directory with the checkpoint's files (a download for a remote store). */
  Path fetch(CheckpointId id) throws IOException;

  /** Where a checkpoint lies, as announced on prefstream.checkpoints. */
  URI uri(CheckpointId id);
}
