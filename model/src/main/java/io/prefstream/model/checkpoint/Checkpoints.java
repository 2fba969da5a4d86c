package io.prefstream.model.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** Writing and verifying checkpoint manifests: SHA-256 of every file, checked before loading. */
public final class Checkpoints {

  private Checkpoints() {}

  /** A sealed manifest (with its files' digests) and its own SHA-256. */
  public record Sealed(Manifest manifest, String sha256) {}

  /**
   * Digests every file in {@code staged} and writes {@code manifest.json} listing them; returns the
   * manifest as written and its own SHA-256 (what prefstream.checkpoints announces).
   */
  public static Sealed seal(Path staged, Manifest manifest) throws IOException {
    List<Manifest.FileDigest> digests = new ArrayList<>();
    try (Stream<Path> files = Files.list(staged).sorted()) {
      for (Path file : (Iterable<Path>) files::iterator) {
        String name = file.getFileName().toString();
        if (!name.equals(Manifest.FILE_NAME) && Files.isRegularFile(file)) {
          digests.add(new Manifest.FileDigest(name, sha256(file), Files.size(file)));
        }
      }
    }
    Manifest sealed = manifest.withFiles(digests);
    byte[] json = sealed.toJson();
    Files.write(staged.resolve(Manifest.FILE_NAME), json);
    return new Sealed(sealed, sha256(json));
  }

  /**
   * Reads a checkpoint's manifest and checks every file against it (and the manifest against {@code
   * expectedManifestSha256} when given).
   *
   * @throws CorruptCheckpointException naming the file and both digests when anything differs
   */
  public static Manifest verify(Path dir, String expectedManifestSha256) throws IOException {
    Path manifestFile = dir.resolve(Manifest.FILE_NAME);
    if (!Files.isRegularFile(manifestFile)) {
      throw new CorruptCheckpointException("checkpoint " + dir + " has no " + Manifest.FILE_NAME);
    }
    byte[] json = Files.readAllBytes(manifestFile);
    if (expectedManifestSha256 != null && !expectedManifestSha256.equals(sha256(json))) {
      throw new CorruptCheckpointException(
          "checkpoint "
              + dir
              + ": manifest.json has SHA-256 "
              + sha256(json)
              + ", expected "
              + expectedManifestSha256);
    }
    Manifest manifest;
    try {
      manifest = Manifest.fromJson(json);
    } catch (IOException e) {
      throw new CorruptCheckpointException(
          "checkpoint " + dir + ": unreadable manifest.json: " + e.getMessage(), e);
    }
    for (Manifest.FileDigest file : manifest.files()) {
      Path path = dir.resolve(file.path()).normalize();
      if (!path.startsWith(dir.normalize()) || !Files.isRegularFile(path)) {
        throw new CorruptCheckpointException(
            "checkpoint " + manifest.id() + ": file " + file.path() + " is missing");
      }
      String actual = sha256(path);
      if (!actual.equals(file.sha256())) {
        throw new CorruptCheckpointException(
            "checkpoint "
                + manifest.id()
                + ": "
                + file.path()
                + " has SHA-256 "
                + actual
                + ", the manifest says "
                + file.sha256());
      }
    }
    return manifest;
  }

  /** One checkpoint of a delta chain: its directory and its verified manifest. */
  public record Link(Path dir, Manifest manifest) {}

  /**
   * The checkpoints {@code manifest}'s (verified, in {@code dir}) is loaded from: the nearest full
   * checkpoint first, then every delta up to it. Each link is verified in turn: the parent's
   * manifest against the digest its child recorded, and the parent's files against its manifest;
   * parents lie beside their children in the store (version directories of one model).
   *
   * @throws CorruptCheckpointException naming the link that is missing, altered or inconsistent
   */
  public static List<Link> chain(Path dir, Manifest manifest) throws IOException {
    java.util.ArrayDeque<Link> links = new java.util.ArrayDeque<>();
    links.addFirst(new Link(dir, manifest));
    Path d = dir;
    Manifest m = manifest;
    while (m.hasDelta()) {
      if (m.parent() == null || m.delta().depth() < 1) {
        throw new CorruptCheckpointException(
            "checkpoint " + manifest.id() + ": delta " + m.id() + " names no parent to apply to");
      }
      Path parentDir = d.resolveSibling(String.format("%012d", m.parent()));
      Manifest p;
      try {
        if (!Files.isDirectory(parentDir)) {
          throw new CorruptCheckpointException(
              "its parent v" + m.parent() + " is not in the store");
        }
        p = verify(parentDir, m.delta().parentManifestSha256());
      } catch (CorruptCheckpointException e) {
        throw new CorruptCheckpointException(
            "checkpoint "
                + manifest.id()
                + ": delta chain broken at v"
                + m.parent()
                + " (parent of v"
                + m.version()
                + "): "
                + e.getMessage(),
            e);
      }
      int expected = m.delta().depth() - 1;
      if (p.version() != m.parent() || (p.hasDelta() ? p.delta().depth() : 0) != expected) {
        throw new CorruptCheckpointException(
            "checkpoint "
                + manifest.id()
                + ": delta chain broken at v"
                + m.parent()
                + ": it is version "
                + p.version()
                + " at depth "
                + (p.hasDelta() ? p.delta().depth() : 0)
                + ", expected depth "
                + expected);
      }
      links.addFirst(new Link(parentDir, p));
      d = parentDir;
      m = p;
    }
    return List.copyOf(links);
  }

  /**
   * The deltas that lead from {@code ancestor} (a version already loaded and verified, whose
   * manifest digest is {@code ancestorSha256}) to {@code manifest}'s checkpoint, oldest first, each
   * link verified as in {@link #chain}; empty when the chain reaches a full checkpoint first (the
   * ancestor is not on it).
   */
  public static java.util.Optional<List<Link>> chainFrom(
      long ancestor, String ancestorSha256, Path dir, Manifest manifest) throws IOException {
    java.util.ArrayDeque<Link> links = new java.util.ArrayDeque<>();
    Path d = dir;
    Manifest m = manifest;
    while (true) {
      if (!m.hasDelta() || m.parent() == null) {
        return java.util.Optional.empty();
      }
      links.addFirst(new Link(d, m));
      if (m.parent() == ancestor) {
        if (!m.delta().parentManifestSha256().equals(ancestorSha256)) {
          throw new CorruptCheckpointException(
              "checkpoint "
                  + manifest.id()
                  + ": delta chain broken at v"
                  + ancestor
                  + ": v"
                  + m.version()
                  + " was made on a manifest with SHA-256 "
                  + m.delta().parentManifestSha256()
                  + ", the loaded v"
                  + ancestor
                  + " has "
                  + ancestorSha256);
        }
        return java.util.Optional.of(List.copyOf(links));
      }
      if (m.parent() < ancestor) {
        return java.util.Optional.empty();
      }
      Path parentDir = d.resolveSibling(String.format("%012d", m.parent()));
      Manifest p;
      try {
        if (!Files.isDirectory(parentDir)) {
          throw new CorruptCheckpointException(
              "its parent v" + m.parent() + " is not in the store");
        }
        p = verify(parentDir, m.delta().parentManifestSha256());
      } catch (CorruptCheckpointException e) {
        throw new CorruptCheckpointException(
            "checkpoint "
                + manifest.id()
                + ": delta chain broken at v"
                + m.parent()
                + " (parent of v"
                + m.version()
                + "): "
                + e.getMessage(),
            e);
      }
      d = parentDir;
      m = p;
    }
  }

  public static String sha256(Path file) throws IOException {
    MessageDigest digest = newDigest();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[1 << 16];
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  public static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(newDigest().digest(bytes));
  }

  private static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
