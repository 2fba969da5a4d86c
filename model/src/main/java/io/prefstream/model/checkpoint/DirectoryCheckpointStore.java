package io.prefstream.model.checkpoint;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A checkpoint store in a local (or mounted) directory: {@code ROOT/TENANT/MODEL/VERSION/}. A
 * checkpoint is staged under {@code ROOT/.staging}, every file and the directory fsynced, then
 * renamed into place in one atomic step, so a crash leaves either the whole checkpoint or none.
 */
public final class DirectoryCheckpointStore implements CheckpointStore {

  private static final String STAGING = ".staging";

  private final Path root;

  public DirectoryCheckpointStore(Path root) throws IOException {
    this.root = Files.createDirectories(root).toAbsolutePath();
  }

  public Path root() {
    return root;
  }

  @Override
  public Path newStagingDirectory() throws IOException {
    return Files.createDirectories(root.resolve(STAGING).resolve(UUID.randomUUID().toString()));
  }

  @Override
  public URI commit(Path staged, CheckpointId id) throws IOException {
    if (!Files.isRegularFile(staged.resolve(Manifest.FILE_NAME))) {
      throw new IOException("staged checkpoint " + staged + " has no " + Manifest.FILE_NAME);
    }
    try (Stream<Path> files = Files.list(staged)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        fsync(file, false);
      }
    }
    fsync(staged, true);
    Path target = directory(id);
    Files.createDirectories(target.getParent());
    if (Files.exists(target)) {
      throw new FileAlreadyExistsException(
          target.toString(), null, "checkpoint " + id + " already exists in the store");
    }
    try {
      Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException(
          "the checkpoint store "
              + root
              + " cannot rename atomically; stage and store must share"
              + " a file system",
          e);
    } catch (FileSystemException e) {
      // Another writer committed this id between the check above and the rename: rename(2)
      // refuses a non-empty target ("Directory not empty"), which Java reports as a plain
      // FileSystemException under ATOMIC_MOVE.
      if (Files.exists(target)) {
        FileAlreadyExistsException taken =
            new FileAlreadyExistsException(
                target.toString(), null, "checkpoint " + id + " was committed by another writer");
        taken.initCause(e);
        throw taken;
      }
      throw e;
    }
    fsync(target.getParent(), true);
    return uri(id);
  }

  @Override
  public List<CheckpointId> list(String tenant, String model) throws IOException {
    Path dir = root.resolve(segment(tenant)).resolve(segment(model));
    List<CheckpointId> ids = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return ids;
    }
    try (DirectoryStream<Path> versions = Files.newDirectoryStream(dir)) {
      for (Path v : versions) {
        String name = v.getFileName().toString();
        if (name.matches("\\d{1,18}") && Files.isDirectory(v)) {
          ids.add(new CheckpointId(tenant, model, Long.parseLong(name)));
        }
      }
    }
    ids.sort(Comparator.comparingLong(CheckpointId::version));
    return ids;
  }

  @Override
  public List<CheckpointId> listAll() throws IOException {
    List<CheckpointId> all = new ArrayList<>();
    try (DirectoryStream<Path> tenants = Files.newDirectoryStream(root, Files::isDirectory)) {
      for (Path t : tenants) {
        if (t.getFileName().toString().equals(STAGING)) {
          continue;
        }
        try (DirectoryStream<Path> models = Files.newDirectoryStream(t, Files::isDirectory)) {
          for (Path m : models) {
            all.addAll(list(unsegment(t), unsegment(m)));
          }
        }
      }
    }
    all.sort(
        Comparator.comparing(CheckpointId::tenant)
            .thenComparing(CheckpointId::model)
            .thenComparingLong(CheckpointId::version));
    return all;
  }

  /**
   * Renames the checkpoint's directory out of the store in one atomic step (under {@code
   * ROOT/.staging}), then deletes its files: a reader listing the store sees it whole or not at
   * all.
   */
  @Override
  public void delete(CheckpointId id) throws IOException {
    Path dir = directory(id);
    if (!Files.isDirectory(dir)) {
      return;
    }
    Path doomed = root.resolve(STAGING).resolve("deleted-" + UUID.randomUUID());
    Files.createDirectories(doomed.getParent());
    try {
      Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
    } catch (java.nio.file.NoSuchFileException e) {
      return; // another writer deleted it first
    }
    fsync(dir.getParent(), true);
    try (Stream<Path> files = Files.walk(doomed)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  @Override
  public Path fetch(CheckpointId id) throws IOException {
    Path dir = directory(id);
    if (!Files.isDirectory(dir)) {
      throw new IOException("checkpoint " + id + " is not in the store at " + dir);
    }
    return dir;
  }

  @Override
  public URI uri(CheckpointId id) {
    return directory(id).toUri();
  }

  private Path directory(CheckpointId id) {
    return root.resolve(segment(id.tenant()))
        .resolve(segment(id.model()))
        .resolve(String.format("%012d", id.version()));
  }

  /** Tenant and model names as one safe path segment each. */
  private static String segment(String name) {
    String encoded = URLEncoder.encode(name, StandardCharsets.UTF_8);
    return encoded.startsWith(".") ? "%2E" + encoded.substring(1) : encoded;
  }

  private static String unsegment(Path dir) {
    return URLDecoder.decode(dir.getFileName().toString(), StandardCharsets.UTF_8);
  }

  private static void fsync(Path path, boolean directory) throws IOException {
    try (FileChannel channel =
        FileChannel.open(path, directory ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
      channel.force(true);
    }
  }
}
