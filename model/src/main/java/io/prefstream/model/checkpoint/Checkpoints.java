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
