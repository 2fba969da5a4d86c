package io.prefstream.model.checkpoint;

import ai.djl.Device;
import io.prefstream.avro.CheckpointFile;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.model.Candidate;
import io.prefstream.model.RewardModel;
import io.prefstream.model.RewardModels;
import io.prefstream.model.ngram.NgramFeaturizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Loads an announced checkpoint only when every SHA-256 verifies: the manifest against the
 * announcement, every file against the manifest, the announced file list against the manifest's,
 * and the parameters again as the very bytes that are loaded. Then it warms the model up with a few
 * scores. Used by every process that serves a checkpoint (scorer, drift monitor).
 */
public final class CheckpointLoader {

  private static final List<Candidate> WARM_UP =
      List.of(
          new Candidate("How do I warm up?", "Score a few candidates before serving."),
          new Candidate("Warm-up prompt", "- a list\n- of items\n```\ncode\n```"),
          new Candidate("", "An answer to nothing."));

  private CheckpointLoader() {}

  /** Why a checkpoint must not be loaded. */
  public static final class Refused extends Exception {
    private final String kind;

    public Refused(String kind, String message, Throwable cause) {
      super(message, cause);
      this.kind = kind;
    }

    /** A short label for metrics: digest, unsupported, unreadable, unannounced. */
    public String kind() {
      return kind;
    }
  }

  public static RewardModel load(CheckpointPublished c, Device device) throws Refused {
    return load(c, device, "fp32");
  }

  /**
   * Loads a checkpoint for serving on {@code device}, computing in {@code precision} ({@code
   * model.precision}).
   */
  public static RewardModel load(CheckpointPublished c, Device device, String precision)
      throws Refused {
    String id = c.getTenantId() + "/" + c.getModel() + "/v" + c.getVersion();
    Path dir = directory(c, id);
    Manifest manifest;
    try {
      manifest = Checkpoints.verify(dir, c.getManifestSha256());
    } catch (CorruptCheckpointException e) {
      throw new Refused("digest", "refused " + id + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new Refused("unreadable", "cannot read " + id + ": " + e.getMessage(), e);
    }
    Map<String, String> announced = new TreeMap<>();
    for (CheckpointFile f : c.getFiles()) {
      announced.put(f.getPath(), f.getSha256());
    }
    Map<String, String> listed = new TreeMap<>();
    for (Manifest.FileDigest f : manifest.files()) {
      listed.put(f.path(), f.sha256());
    }
    if (!announced.equals(listed)) {
      throw new Refused(
          "digest",
          "refused " + id + ": its files " + listed + " differ from the announced " + announced,
          null);
    }
    if (manifest.featurizerVersion() != NgramFeaturizer.VERSION) {
      throw new Refused(
          "unsupported",
          String.format(
              "refused %s: its features are version %d, this build's are version %d",
              id, manifest.featurizerVersion(), NgramFeaturizer.VERSION),
          null);
    }
    byte[] parameters;
    try {
      parameters = Files.readAllBytes(dir.resolve(Manifest.PARAMETERS_FILE));
    } catch (IOException e) {
      throw new Refused("unreadable", "cannot read " + id + " parameters", e);
    }
    String expected = listed.get(Manifest.PARAMETERS_FILE);
    String actual = Checkpoints.sha256(parameters);
    if (!actual.equals(expected)) {
      throw new Refused(
          "digest",
          "refused " + id + ": parameters.bin has SHA-256 " + actual + ", expected " + expected,
          null);
    }
    RewardModel model;
    try {
      model = RewardModels.forCheckpoint(manifest.spec(), device, precision, dir);
    } catch (RuntimeException e) {
      throw new Refused("unsupported", "cannot build " + id + ": " + e.getMessage(), e);
    }
    try {
      model.loadParameters(new ByteArrayInputStream(parameters));
      model.score(WARM_UP);
    } catch (IOException | RuntimeException e) {
      model.close();
      throw new Refused("unreadable", "cannot load " + id + ": " + e.getMessage(), e);
    }
    return model;
  }

  private static Path directory(CheckpointPublished c, String id) throws Refused {
    URI uri;
    try {
      uri = URI.create(c.getUri());
    } catch (IllegalArgumentException e) {
      throw new Refused("unsupported", id + " has a malformed URI " + c.getUri(), e);
    }
    if (!"file".equals(uri.getScheme())) {
      throw new Refused(
          "unsupported", id + " lies at " + uri + "; only file: stores are read", null);
    }
    return Path.of(uri);
  }
}
