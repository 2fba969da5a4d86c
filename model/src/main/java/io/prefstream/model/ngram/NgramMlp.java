package io.prefstream.model.ngram;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.prefstream.model.BlockRewardModel;
import io.prefstream.model.Candidate;
import io.prefstream.model.HostTable;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import io.prefstream.model.Prepared;
import io.prefstream.model.SparseRows;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * The default reward model: hashed word and character n-grams of prompt and response plus the
 * response's structure, through a small MLP ({@link NgramMlpBlock}). Fast on a CPU, no encoder.
 */
public final class NgramMlp extends BlockRewardModel {

  private final NgramFeaturizer featurizer;
  private final NgramMlpBlock block;
  private final int dim;

  public NgramMlp(ModelSpec spec, Device device) {
    this(spec, device, block(spec));
  }

  private NgramMlp(ModelSpec spec, Device device, NgramMlpBlock block) {
    super(spec, device, block);
    this.block = block;
    this.dim = spec.get(ModelOptions.EMBEDDING_DIM);
    this.featurizer = NgramFeaturizer.of(spec);
    initialize(new Shape(1, dim), new Shape(1, dim), new Shape(1, StructureFeatures.SIZE));
  }

  private static NgramMlpBlock block(ModelSpec spec) {
    return new NgramMlpBlock(
        spec.get(ModelOptions.BUCKETS),
        spec.get(ModelOptions.EMBEDDING_DIM),
        spec.get(ModelOptions.HIDDEN),
        spec.get(ModelOptions.DROPOUT).floatValue(),
        StructureFeatures.SIZE);
  }

  @Override
  public boolean stochasticInTraining() {
    return spec().get(ModelOptions.DROPOUT) > 0;
  }

  @Override
  public Optional<SparseRows> sparseRows(NDList inputs, Prepared prepared) {
    return Optional.of(new Rows(block.table(), inputs, (Batch) prepared, dim));
  }

  /**
   * A featurized batch: each distinct prompt's bag and each candidate's response bag, as entries
   * over the batch's distinct table rows.
   */
  private record Batch(
      int size, Bags prompts, int[] promptOf, Bags responses, float[] structure, RowIndex rows)
      implements Prepared {}

  @Override
  public Prepared prepare(List<Candidate> candidates) {
    int n = candidates.size();
    NgramFeaturizer.Features[] features = new NgramFeaturizer.Features[n];
    // Plain Java on every core: the engine's thread trains meanwhile, or waits for this.
    IntStream.range(0, n)
        .parallel()
        .forEach(
            i -> {
              Candidate c = candidates.get(i);
              features[i] = featurizer.featurize(c.prompt(), c.response());
            });
    // A pair's two candidates share their prompt's bag (the featurizer caches it): pool it once.
    Map<NgramFeaturizer.Bag, Integer> distinct = new IdentityHashMap<>();
    List<NgramFeaturizer.Bag> promptBags = new ArrayList<>();
    int[] promptOf = new int[n];
    int promptEntries = 0;
    int responseEntries = 0;
    for (int i = 0; i < n; i++) {
      NgramFeaturizer.Bag prompt = features[i].prompt();
      Integer index = distinct.get(prompt);
      if (index == null) {
        index = promptBags.size();
        distinct.put(prompt, index);
        promptBags.add(prompt);
        promptEntries += prompt.size();
      }
      promptOf[i] = index;
      responseEntries += features[i].response().size();
    }
    RowIndex rows = new RowIndex(promptEntries + responseEntries);
    Bags prompts = new Bags(promptBags.size(), promptEntries);
    for (NgramFeaturizer.Bag bag : promptBags) {
      prompts.add(bag, rows);
    }
    Bags responses = new Bags(n, responseEntries);
    float[] structure = new float[n * StructureFeatures.SIZE];
    for (int i = 0; i < n; i++) {
      responses.add(features[i].response(), rows);
      System.arraycopy(
          features[i].structure(),
          0,
          structure,
          i * StructureFeatures.SIZE,
          StructureFeatures.SIZE);
    }
    return new Batch(n, prompts, promptOf, responses, structure, rows);
  }

  /**
   * Reads the batch's rows from the table and pools each bag over them in plain Java: a weighted
   * sum of a few hundred rows per text, cheaper than any sparse op the engine offers on a CPU (a
   * COO product sorts its entries on every call, forward and backward), and than a dense product of
   * bag matrices even where a batch reads only a thousand rows.
   */
  @Override
  public NDList inputs(NDManager manager, Prepared prepared) {
    Batch batch = (Batch) prepared;
    int n = batch.size();
    float[] rows = HostTable.gather(block.table().getArray(), batch.rows().rows(), dim);
    float[] prompts = batch.prompts().pool(rows, dim);
    float[] p = new float[n * dim];
    for (int i = 0; i < n; i++) {
      System.arraycopy(prompts, batch.promptOf()[i] * dim, p, i * dim, dim);
    }
    return new NDList(
        manager.create(p, new Shape(n, dim)),
        manager.create(batch.responses().pool(rows, dim), new Shape(n, dim)),
        manager.create(batch.structure(), new Shape(n, StructureFeatures.SIZE)));
  }

  /**
   * The rows a batch read, and their gradient: the gradients of the pooled vectors, spread back
   * over the rows with the bags' weights.
   */
  private static final class Rows implements SparseRows {
    private final Parameter table;
    private final NDList inputs;
    private final Batch batch;
    private final int dim;
    private float[] gradient;

    Rows(Parameter table, NDList inputs, Batch batch, int dim) {
      this.table = table;
      this.inputs = inputs;
      this.batch = batch;
      this.dim = dim;
    }

    @Override
    public Parameter table() {
      return table;
    }

    @Override
    public long[] rows() {
      return batch.rows().rows();
    }

    @Override
    public int dim() {
      return dim;
    }

    @Override
    public void track() {
      inputs.get(NgramMlpBlock.PROMPTS).setRequiresGradient(true);
      inputs.get(NgramMlpBlock.RESPONSES).setRequiresGradient(true);
    }

    @Override
    public float[] gradient() {
      if (gradient == null) {
        float[] dp = gradientOf(NgramMlpBlock.PROMPTS);
        float[] dr = gradientOf(NgramMlpBlock.RESPONSES);
        float[] dPrompts = new float[batch.prompts().count() * dim];
        int[] promptOf = batch.promptOf();
        for (int i = 0; i < promptOf.length; i++) {
          int to = promptOf[i] * dim;
          int from = i * dim;
          for (int k = 0; k < dim; k++) {
            dPrompts[to + k] += dp[from + k];
          }
        }
        gradient = new float[batch.rows().size() * dim];
        batch.prompts().spread(dPrompts, gradient, dim);
        batch.responses().spread(dr, gradient, dim);
      }
      return gradient;
    }

    private float[] gradientOf(int input) {
      try (NDArray grad = inputs.get(input).getGradient()) {
        return grad.toFloatArray();
      }
    }
  }

  /** Bags in compressed rows: bag b's entries are offsets[b] until offsets[b + 1]. */
  private static final class Bags {
    private final int[] offsets;
    private final int[] columns;
    private final float[] values;
    private int count;

    Bags(int bags, int entries) {
      offsets = new int[bags + 1];
      columns = new int[entries];
      values = new float[entries];
    }

    void add(NgramFeaturizer.Bag bag, RowIndex rows) {
      int[] ids = bag.ids();
      float[] weights = bag.values();
      int at = offsets[count];
      for (int j = 0; j < ids.length; j++) {
        columns[at + j] = rows.indexOf(ids[j]);
        values[at + j] = weights[j];
      }
      offsets[++count] = at + ids.length;
    }

    int count() {
      return count;
    }

    /** Each bag's weighted sum of {@code rows} ([U, dim], row-major): [count, dim]. */
    float[] pool(float[] rows, int dim) {
      float[] out = new float[count * dim];
      if (simd(dim)) {
        VectorBags.pool(offsets, columns, values, count, rows, dim, out);
      } else {
        poolScalar(offsets, columns, values, count, rows, dim, out);
      }
      return out;
    }

    /** The transpose of {@link #pool}: adds each bag's {@code pooled} gradient to its rows'. */
    void spread(float[] pooled, float[] rows, int dim) {
      if (simd(dim)) {
        VectorBags.spread(offsets, columns, values, count, pooled, dim, rows);
      } else {
        spreadScalar(offsets, columns, values, count, pooled, dim, rows);
      }
    }
  }

  /** Whether the Vector API serves rows of {@code dim} floats here (asked without loading it). */
  private static boolean simd(int dim) {
    return Simd.MODULE && VectorBags.fits(dim);
  }

  /** Scalar bag pooling, where the Vector API is absent: as {@link VectorBags#pool}. */
  static void poolScalar(
      int[] offsets, int[] columns, float[] values, int bags, float[] rows, int dim, float[] out) {
    for (int b = 0; b < bags; b++) {
      int o = b * dim;
      for (int e = offsets[b]; e < offsets[b + 1]; e++) {
        float w = values[e];
        int base = columns[e] * dim;
        for (int k = 0; k < dim; k++) {
          out[o + k] += w * rows[base + k];
        }
      }
    }
  }

  /** Scalar transpose of pooling: as {@link VectorBags#spread}. */
  static void spreadScalar(
      int[] offsets,
      int[] columns,
      float[] values,
      int bags,
      float[] pooled,
      int dim,
      float[] rows) {
    for (int b = 0; b < bags; b++) {
      int o = b * dim;
      for (int e = offsets[b]; e < offsets[b + 1]; e++) {
        float w = values[e];
        int base = columns[e] * dim;
        for (int k = 0; k < dim; k++) {
          rows[base + k] += w * pooled[o + k];
        }
      }
    }
  }

  /** The distinct table rows of a batch, in first-seen order; row 0 (padding) is index 0. */
  private static final class RowIndex {
    private final int[] keys;
    private final int[] index;
    private final long[] rows;
    private long[] trimmed;
    private int size = 1;

    RowIndex(int maxRows) {
      int capacity = Integer.highestOneBit(Math.max(16, 2 * maxRows + 1)) << 1;
      keys = new int[capacity];
      index = new int[capacity];
      rows = new long[maxRows + 1];
    }

    int indexOf(int row) {
      int mask = keys.length - 1;
      int slot = (row * 0x9E3779B9) & mask;
      while (keys[slot] != 0 && keys[slot] != row) {
        slot = (slot + 1) & mask;
      }
      if (keys[slot] == 0) {
        keys[slot] = row;
        index[slot] = size;
        rows[size++] = row;
      }
      return index[slot];
    }

    /** The rows, once the batch is built: the array is kept, so do not change it. */
    long[] rows() {
      if (trimmed == null) {
        trimmed = java.util.Arrays.copyOf(rows, size);
      }
      return trimmed;
    }

    int size() {
      return size;
    }
  }
}
