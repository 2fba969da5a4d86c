package io.prefstream.model.checkpoint;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import io.prefstream.avro.CheckpointFile;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.model.Candidate;
import io.prefstream.model.RewardModel;
import io.prefstream.model.RewardModels;
import io.prefstream.model.ngram.NgramFeaturizer;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Loads an announced checkpoint only when every SHA-256 verifies: the manifest against the
 * announcement, every file against the manifest, the announced file list against the manifest's,
 * and the parameters again as the very bytes that are loaded; a delta checkpoint's chain link by
 * link back to its full checkpoint ({@link Checkpoints#chain}). Then it warms the model up with a
 * few scores. Used by every process that serves a checkpoint (scorer, drift monitor).
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
    String id = id(c);
    Path dir = directory(c, id);
    Manifest manifest = verified(c, dir, id);
    List<Checkpoints.Link> chain;
    try {
      chain = Checkpoints.chain(dir, manifest);
    } catch (CorruptCheckpointException e) {
      throw new Refused("digest", "refused " + id + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new Refused("unreadable", "cannot read " + id + ": " + e.getMessage(), e);
    }
    RewardModel model;
    try {
      model = RewardModels.forCheckpoint(manifest.spec(), device, precision, dir);
    } catch (RuntimeException e) {
      throw new Refused("unsupported", "cannot build " + id + ": " + e.getMessage(), e);
    }
    try {
      loadParameters(model, chain);
      model.score(WARM_UP);
    } catch (CorruptCheckpointException e) {
      model.close();
      throw new Refused("digest", "refused " + id + ": " + e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      model.close();
      throw new Refused("unreadable", "cannot load " + id + ": " + e.getMessage(), e);
    }
    return model;
  }

  /**
   * Loads a delta checkpoint onto an ancestor already loaded and verified ({@code ancestor},
   * version {@code ancestorVersion}, whose announced manifest digest is {@code
   * ancestorManifestSha256}): the ancestor's parameters copied, then only the deltas from it to
   * this checkpoint applied, each link verified ({@link Checkpoints#chainFrom}). What a swap costs
   * then follows the rows those deltas hold, not the whole chain. Empty when {@code c} is not a
   * delta descending from that very version without a full checkpoint between (load it whole then).
   */
  public static java.util.Optional<RewardModel> loadOnto(
      CheckpointPublished c,
      RewardModel ancestor,
      long ancestorVersion,
      String ancestorManifestSha256,
      Device device,
      String precision)
      throws Refused {
    String id = id(c);
    Path dir = directory(c, id);
    Manifest manifest = verified(c, dir, id);
    java.util.Optional<List<Checkpoints.Link>> deltas;
    try {
      deltas = Checkpoints.chainFrom(ancestorVersion, ancestorManifestSha256, dir, manifest);
    } catch (CorruptCheckpointException e) {
      throw new Refused("digest", "refused " + id + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new Refused("unreadable", "cannot read " + id + ": " + e.getMessage(), e);
    }
    if (deltas.isEmpty()) {
      return java.util.Optional.empty();
    }
    RewardModel model;
    try {
      model = RewardModels.forCheckpoint(manifest.spec(), device, precision, dir);
    } catch (RuntimeException e) {
      throw new Refused("unsupported", "cannot build " + id + ": " + e.getMessage(), e);
    }
    try {
      List<Parameter> from = ancestor.parameters();
      List<Parameter> to = model.parameters();
      if (from.size() != to.size()) {
        throw new IOException(
            "v" + ancestorVersion + " has " + from.size() + " parameters, this model " + to.size());
      }
      List<NDArray> arrays = new ArrayList<>();
      for (int i = 0; i < to.size(); i++) {
        NDArray target = to.get(i).getArray();
        NDArray source = from.get(i).getArray();
        var t = io.prefstream.model.HostTable.view(target);
        var f = io.prefstream.model.HostTable.view(source);
        if (t.isPresent() && f.isPresent() && source.size() == target.size()) {
          t.get().put(f.get()); // a copy in host memory
        } else {
          target.set(source.toByteBuffer());
        }
        arrays.add(target);
      }
      for (Checkpoints.Link link : deltas.get()) {
        byte[] delta = read(link, Manifest.DELTA_FILE);
        ArrayDelta.apply(new DataInputStream(new ByteArrayInputStream(delta)), arrays);
      }
      model.score(WARM_UP);
    } catch (CorruptCheckpointException e) {
      model.close();
      throw new Refused("digest", "refused " + id + ": " + e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      model.close();
      throw new Refused("unreadable", "cannot load " + id + ": " + e.getMessage(), e);
    }
    return java.util.Optional.of(model);
  }

  private static String id(CheckpointPublished c) {
    return c.getTenantId() + "/" + c.getModel() + "/v" + c.getVersion();
  }

  /**
   * The checkpoint's manifest, verified against the announcement, with every file against it and
   * the announced file list against its own; refused when its features are another version's.
   */
  private static Manifest verified(CheckpointPublished c, Path dir, String id) throws Refused {
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
    return manifest;
  }

  /**
   * Loads a chain's parameters into {@code model}: the full checkpoint's, then each delta in turn,
   * each file hashed again as the very bytes that are loaded.
   *
   * @throws CorruptCheckpointException when a file's bytes differ from its manifest's digest
   */
  public static void loadParameters(RewardModel model, List<Checkpoints.Link> chain)
      throws IOException {
    Checkpoints.Link root = chain.get(0);
    model.loadParameters(new ByteArrayInputStream(read(root, Manifest.PARAMETERS_FILE)));
    for (Checkpoints.Link link : chain.subList(1, chain.size())) {
      byte[] delta = read(link, Manifest.DELTA_FILE);
      List<NDArray> arrays = new ArrayList<>();
      for (Parameter p : model.parameters()) {
        arrays.add(p.getArray());
      }
      ArrayDelta.apply(new DataInputStream(new ByteArrayInputStream(delta)), arrays);
    }
  }

  /** A file of a verified checkpoint, read once and checked against its manifest's digest. */
  public static byte[] read(Checkpoints.Link link, String file) throws IOException {
    String expected = null;
    for (Manifest.FileDigest f : link.manifest().files()) {
      if (f.path().equals(file)) {
        expected = f.sha256();
      }
    }
    if (expected == null) {
      throw new CorruptCheckpointException(
          "checkpoint " + link.manifest().id() + " lists no " + file);
    }
    byte[] bytes = Files.readAllBytes(link.dir().resolve(file));
    String actual = Checkpoints.sha256(bytes);
    if (!actual.equals(expected)) {
      throw new CorruptCheckpointException(
          "checkpoint "
              + link.manifest().id()
              + ": "
              + file
              + " has SHA-256 "
              + actual
              + ", expected "
              + expected);
    }
    return bytes;
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
