package io.prefstream.model.ngram;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.prefstream.model.BlockRewardModel;
import io.prefstream.model.Candidate;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import io.prefstream.model.Prepared;
import io.prefstream.model.SparseRows;
import java.util.List;
import java.util.Optional;

/**
 * The default reward model: hashed word and character n-grams of prompt and response plus the
 * response's structure, through a small MLP ({@link NgramMlpBlock}). Fast on a CPU, no encoder.
 */
public final class NgramMlp extends BlockRewardModel {

  private final NgramFeaturizer featurizer;
  private final NgramMlpBlock block;

  public NgramMlp(ModelSpec spec, Device device) {
    this(spec, device, block(spec));
  }

  private NgramMlp(ModelSpec spec, Device device, NgramMlpBlock block) {
    super(spec, device, block);
    this.block = block;
    this.featurizer = NgramFeaturizer.of(spec);
    initialize(
        new Shape(1, 1),
        new Shape(1, 1),
        new Shape(1, StructureFeatures.SIZE),
        new Shape(1),
        new Shape(1, 1));
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
  public Optional<SparseRows> sparseRows(NDList inputs) {
    return Optional.of(
        new SparseRows(
            block.table(), inputs.get(NgramMlpBlock.ROWS), inputs.get(NgramMlpBlock.ROWS_VALUES)));
  }

  /** A featurized batch: each candidate's bags as entries over the batch's distinct rows. */
  private record Batch(int size, Bags prompts, Bags responses, float[] structure, RowIndex rows)
      implements Prepared {}

  @Override
  public Prepared prepare(List<Candidate> candidates) {
    int n = candidates.size();
    NgramFeaturizer.Features[] features = new NgramFeaturizer.Features[n];
    // Plain Java on every core: the engine's thread trains meanwhile, or waits for this.
    java.util.stream.IntStream.range(0, n)
        .parallel()
        .forEach(
            i -> {
              Candidate c = candidates.get(i);
              features[i] = featurizer.featurize(c.prompt(), c.response());
            });
    int promptEntries = 0;
    int responseEntries = 0;
    for (NgramFeaturizer.Features f : features) {
      promptEntries += f.prompt().size();
      responseEntries += f.response().size();
    }
    Bags prompts = new Bags(promptEntries);
    Bags responses = new Bags(responseEntries);
    float[] structure = new float[n * StructureFeatures.SIZE];
    RowIndex rows = new RowIndex(promptEntries + responseEntries);
    for (int i = 0; i < n; i++) {
      prompts.add(i, features[i].prompt(), rows);
      responses.add(i, features[i].response(), rows);
      System.arraycopy(
          features[i].structure(),
          0,
          structure,
          i * StructureFeatures.SIZE,
          StructureFeatures.SIZE);
    }
    return new Batch(n, prompts, responses, structure, rows);
  }

  @Override
  public NDList inputs(NDManager manager, Prepared prepared) {
    Batch batch = (Batch) prepared;
    int n = batch.size();
    NDArray rowArray = manager.create(batch.rows().rows());
    NDArray rowValues = block.table().getArray().get(rowArray);
    rowValues.attach(manager); // a per-batch copy: freed with the batch
    Shape shape = new Shape(n, batch.rows().size());
    return new NDList(
        batch.prompts().matrix(manager, shape),
        batch.responses().matrix(manager, shape),
        manager.create(batch.structure(), new Shape(n, StructureFeatures.SIZE)),
        rowArray,
        rowValues);
  }

  /**
   * One bag per candidate as a sparse [candidates x batch rows] matrix, so pooling is one sparse
   * matrix product with the batch's rows: no padding, no [B, L, D] intermediate.
   */
  private static final class Bags {
    private final long[] row;
    private final long[] column;
    private final float[] values;
    private int size;

    Bags(int entries) {
      row = new long[entries];
      column = new long[entries];
      values = new float[entries];
    }

    void add(int candidate, NgramFeaturizer.Bag bag, RowIndex rows) {
      int[] ids = bag.ids();
      float[] weights = bag.values();
      for (int j = 0; j < ids.length; j++) {
        row[size] = candidate;
        column[size] = rows.indexOf(ids[j]);
        values[size++] = weights[j];
      }
    }

    /**
     * The COO matrix, built from index and value arrays owned by the batch's manager: DJL's
     * createCoo(Buffer, ...) lets the sparse tensor point into buffers it then frees.
     */
    NDArray matrix(NDManager manager, Shape shape) {
      long[] indices = new long[2 * size];
      System.arraycopy(row, 0, indices, 0, size);
      System.arraycopy(column, 0, indices, size, size);
      PtNDArray index = (PtNDArray) manager.create(indices, new Shape(2, size));
      PtNDArray value = (PtNDArray) manager.create(java.util.Arrays.copyOf(values, size));
      return JniUtils.createSparseCoo(index, value, shape);
    }
  }

  /** The distinct table rows of a batch, in first-seen order; row 0 (padding) is index 0. */
  private static final class RowIndex {
    private final int[] keys;
    private final int[] index;
    private final long[] rows;
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

    long[] rows() {
      return java.util.Arrays.copyOf(rows, size);
    }

    int size() {
      return size;
    }
  }
}
