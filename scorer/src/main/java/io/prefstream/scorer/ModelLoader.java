package io.prefstream.scorer;

import io.prefstream.avro.CheckpointFile;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.model.Candidate;
import io.prefstream.model.Devices;
import io.prefstream.model.RewardModel;
import io.prefstream.model.RewardModels;
import io.prefstream.model.checkpoint.Checkpoints;
import io.prefstream.model.checkpoint.CorruptCheckpointException;
import io.prefstream.model.checkpoint.Manifest;
import io.prefstream.model.ngram.NgramFeaturizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches an announced checkpoint from the store and loads it only when every SHA-256 verifies: the
 * manifest against the announcement, every file against the manifest, and the parameters again as
 * the very bytes that are loaded. Then it warms the model up with a few scores, so the first
 * request after a swap does not pay for it.
 */
final class ModelLoader {

  private static final Logger LOG = LoggerFactory.getLogger(ModelLoader.class);
  private static final List<Candidate> WARM_UP =
      List.of(
          new Candidate("How do I warm up?", "Score a few candidates before serving."),
          new Candidate("Warm-up prompt", "- a list\n- of items\n```\ncode\n```"),
          new Candidate("", "An answer to nothing."));

  private final ScorerConfig config;

  ModelLoader(ScorerConfig config) {
    this.config = config;
  }

  ServedModel load(CheckpointPublished c) throws CheckpointRefused {
    String id = c.getTenantId() + "/" + c.getModel() + "/v" + c.getVersion();
    Path dir = directory(c, id);
    Manifest manifest;
    try {
      manifest = Checkpoints.verify(dir, c.getManifestSha256());
    } catch (CorruptCheckpointException e) {
      throw new CheckpointRefused("digest", "refused " + id + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new CheckpointRefused("unreadable", "cannot read " + id + ": " + e.getMessage(), e);
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
      throw new CheckpointRefused(
          "digest",
          "refused " + id + ": its files " + listed + " differ from the announced " + announced,
          null);
    }
    if (manifest.featurizerVersion() != NgramFeaturizer.VERSION) {
      throw new CheckpointRefused(
          "unsupported",
          String.format(
              "refused %s: its features are version %d, this scorer's are version %d",
              id, manifest.featurizerVersion(), NgramFeaturizer.VERSION),
          null);
    }
    byte[] parameters;
    try {
      parameters = Files.readAllBytes(dir.resolve(Manifest.PARAMETERS_FILE));
    } catch (IOException e) {
      throw new CheckpointRefused("unreadable", "cannot read " + id + " parameters", e);
    }
    String expected = listed.get(Manifest.PARAMETERS_FILE);
    String actual = Checkpoints.sha256(parameters);
    if (!actual.equals(expected)) {
      throw new CheckpointRefused(
          "digest",
          "refused " + id + ": parameters.bin has SHA-256 " + actual + ", expected " + expected,
          null);
    }
    RewardModel model = RewardModels.create(manifest.spec(), Devices.resolve(config.device()));
    try {
      model.loadParameters(new ByteArrayInputStream(parameters));
      model.score(WARM_UP);
    } catch (IOException | RuntimeException e) {
      model.close();
      throw new CheckpointRefused("unreadable", "cannot load " + id + ": " + e.getMessage(), e);
    }
    LOG.info("Loaded {} ({}), digests verified, warmed up", id, manifest.modelType());
    return new ServedModel(c, model, config);
  }

  private static Path directory(CheckpointPublished c, String id) throws CheckpointRefused {
    URI uri;
    try {
      uri = URI.create(c.getUri());
    } catch (IllegalArgumentException e) {
      throw new CheckpointRefused("unsupported", id + " has a malformed URI " + c.getUri(), e);
    }
    if (!"file".equals(uri.getScheme())) {
      throw new CheckpointRefused(
          "unsupported", id + " lies at " + uri + "; this scorer reads file: stores only", null);
    }
    return Path.of(uri);
  }
}
