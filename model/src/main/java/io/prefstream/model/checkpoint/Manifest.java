package io.prefstream.model.checkpoint;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.prefstream.model.ModelSpec;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A checkpoint's {@code manifest.json}: what the model is, how good it was, what it was trained
 * through, and the SHA-256 of every other file, so a reader can verify before loading.
 *
 * @param format manifest format version
 * @param tenant tenant whose pairs trained it
 * @param model model name within the tenant
 * @param version monotonic per tenant/model
 * @param parent the version it continued from, or null for a model trained from scratch
 * @param modelType e.g. ngram-mlp
 * @param modelConfig every model.* key it was built with
 * @param featurizerVersion version of the featurizer's definition
 * @param metrics prequential_accuracy, holdout_accuracy, loss, ...
 * @param rewardMean mean reward on recent candidates, for normalising served scores
 * @param rewardStd standard deviation of those rewards
 * @param referenceHistogram raw reward histogram on recent candidates, the drift reference
 * @param offsets the next offset to read of each pairs partition it was trained through
 * @param pairsSeen TRAIN pairs trained on over its whole lineage (replays not counted)
 * @param steps optimizer steps over its whole lineage
 * @param files every other file of the checkpoint with its SHA-256 and size
 * @param createdAt ISO-8601 instant it was written
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record Manifest(
    int format,
    String tenant,
    String model,
    long version,
    Long parent,
    String modelType,
    Map<String, String> modelConfig,
    int featurizerVersion,
    Map<String, Double> metrics,
    double rewardMean,
    double rewardStd,
    Histogram referenceHistogram,
    List<Offset> offsets,
    long pairsSeen,
    long steps,
    List<FileDigest> files,
    String createdAt,
    Delta delta) {

  public static final int FORMAT = 1;
  public static final String FILE_NAME = "manifest.json";

  /** The model's parameters in a checkpoint, as {@code RewardModel.saveParameters} writes them. */
  public static final String PARAMETERS_FILE = "parameters.bin";

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  public Manifest {
    modelConfig = new TreeMap<>(modelConfig);
    metrics = new TreeMap<>(metrics);
    offsets = List.copyOf(offsets);
    files = List.copyOf(files);
  }

  /** A full checkpoint (no {@link Delta}): every parameter in {@link #PARAMETERS_FILE}. */
  public Manifest(
      int format,
      String tenant,
      String model,
      long version,
      Long parent,
      String modelType,
      Map<String, String> modelConfig,
      int featurizerVersion,
      Map<String, Double> metrics,
      double rewardMean,
      double rewardStd,
      Histogram referenceHistogram,
      List<Offset> offsets,
      long pairsSeen,
      long steps,
      List<FileDigest> files,
      String createdAt) {
    this(
        format,
        tenant,
        model,
        version,
        parent,
        modelType,
        modelConfig,
        featurizerVersion,
        metrics,
        rewardMean,
        rewardStd,
        referenceHistogram,
        offsets,
        pairsSeen,
        steps,
        files,
        createdAt,
        null);
  }

  /**
   * A delta checkpoint: {@link #DELTA_FILE} holds what changed since its parent (the rows of the
   * n-gram table its training touched, and every other parameter), to be applied to the parent as
   * loaded; a chain of deltas ends at a full checkpoint.
   *
   * @param depth deltas from the nearest full checkpoint, this one included (1: its parent is full)
   * @param parentManifestSha256 the parent's manifest digest: the link a loader verifies
   */
  public record Delta(int depth, String parentManifestSha256) {}

  /** Whether this checkpoint is a delta on its parent (else every parameter is in it). */
  public boolean hasDelta() {
    return delta != null;
  }

  /** A delta checkpoint's parameters: what changed since the parent ({@link ArrayDelta}). */
  public static final String DELTA_FILE = "delta.bin";

  /** A delta checkpoint's optimizer state: what changed since the parent's. */
  public static final String OPTIMIZER_DELTA_FILE = "optimizer-delta.bin";

  /** Reward counts between consecutive edges (one more edge than counts). */
  public record Histogram(double[] edges, long[] counts) {}

  /** The next offset to read of one partition. */
  public record Offset(String topic, int partition, long offset) {}

  /** One file of the checkpoint. */
  public record FileDigest(String path, String sha256, long size) {}

  public CheckpointId id() {
    return new CheckpointId(tenant, model, version);
  }

  public ModelSpec spec() {
    return new ModelSpec(modelType, modelConfig);
  }

  public Manifest withFiles(List<FileDigest> digests) {
    return new Manifest(
        format,
        tenant,
        model,
        version,
        parent,
        modelType,
        modelConfig,
        featurizerVersion,
        metrics,
        rewardMean,
        rewardStd,
        referenceHistogram,
        offsets,
        pairsSeen,
        steps,
        digests,
        createdAt,
        delta);
  }

  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException("manifest of " + id() + " does not serialise", e);
    }
  }

  public static Manifest fromJson(byte[] json) throws IOException {
    Manifest m = JSON.readValue(json, Manifest.class);
    if (m.format() != FORMAT) {
      throw new IOException(
          "manifest format " + m.format() + " is not supported (this build reads " + FORMAT + ")");
    }
    return m;
  }
}
