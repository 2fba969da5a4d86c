package io.prefstream.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * A network that scores (prompt, response) with a scalar reward, on DJL's PyTorch engine. The
 * trainer and the scorer share this contract: the same {@link ModelSpec} builds the same featurizer
 * and network, and {@link #saveParameters}/{@link #loadParameters} move weights between them.
 */
public interface RewardModel extends AutoCloseable {

  ModelSpec spec();

  /** Where the parameters live (CPU or a GPU). */
  Device device();

  /** A manager on this model's device for one batch's arrays; close it when the batch is done. */
  NDManager newBatchManager();

  /** Featurizes candidates in plain Java; thread-safe, so it may run ahead on another thread. */
  Prepared prepare(List<Candidate> candidates);

  /**
   * Prepared candidates as the network's input arrays, created in {@code manager} (one from {@link
   * #newBatchManager}). Done once per batch and reused by scoring and training; on the thread that
   * runs the model, as it reads the current parameters.
   */
  NDList inputs(NDManager manager, Prepared prepared);

  /** {@link #prepare} then {@link #inputs}. */
  default NDList inputs(NDManager manager, List<Candidate> candidates) {
    return inputs(manager, prepare(candidates));
  }

  /**
   * Whether a training forward pass differs from an inference one (dropout); when it does not, the
   * trainer reads prequential outcomes off the training pass instead of scoring twice.
   */
  default boolean stochasticInTraining() {
    return true;
  }

  /** Rewards, shape [n], for inputs made by {@link #inputs}; dropout is on when training. */
  NDArray forward(NDList inputs, boolean training);

  /**
   * The embedding-table rows these inputs (made by {@link #inputs} from {@code prepared}) read,
   * when the model has a table too large to update whole every step; the trainer then updates just
   * these rows. Empty for dense models.
   */
  default java.util.Optional<SparseRows> sparseRows(NDList inputs, Prepared prepared) {
    return java.util.Optional.empty();
  }

  /**
   * Whether a training step may be split into passes over {@link Prepared#select selected}
   * candidates whose gradients accumulate (for models whose activations do not fit one pass).
   */
  default boolean supportsPasses() {
    return false;
  }

  /** Pairs per forward-backward pass when the trainer does not say (0: the whole step). */
  default int defaultPassPairs() {
    return 0;
  }

  /**
   * The parameters bottom-up in groups (for a layered network: the embeddings, each layer, the
   * head), for layer-wise learning rates and freezing; one group where the model has no layers.
   */
  default List<List<Parameter>> parameterGroups() {
    return List.of(parameters());
  }

  /**
   * Writes files besides the parameters that rebuild this model without its original source (an
   * encoder's architecture and tokenizer), into a checkpoint's directory.
   */
  default void saveAssets(java.nio.file.Path dir) throws IOException {}

  /** Scores candidates without gradients, in batches; rewards in the candidates' order. */
  float[] score(List<Candidate> candidates);

  /**
   * Every parameter by stable name, in a stable order; those that do not require a gradient are
   * trained through {@link #sparseRows}.
   */
  List<Parameter> parameters();

  void saveParameters(OutputStream out) throws IOException;

  /** Replaces every parameter with the saved values; fails if their names or shapes differ. */
  void loadParameters(InputStream in) throws IOException;

  @Override
  void close();
}
