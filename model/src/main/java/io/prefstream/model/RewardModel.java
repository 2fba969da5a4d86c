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

  /**
   * Featurizes candidates into the network's input arrays, created in {@code manager} (one from
   * {@link #newBatchManager}). Done once per batch and reused by scoring and training.
   */
  NDList inputs(NDManager manager, List<Candidate> candidates);

  /** Rewards, shape [n], for inputs made by {@link #inputs}; dropout is on when training. */
  NDArray forward(NDList inputs, boolean training);

  /** Scores candidates without gradients, in batches; rewards in the candidates' order. */
  float[] score(List<Candidate> candidates);

  /** The trainable parameters by stable name, in a stable order. */
  List<Parameter> parameters();

  void saveParameters(OutputStream out) throws IOException;

  /** Replaces every parameter with the saved values; fails if their names or shapes differ. */
  void loadParameters(InputStream in) throws IOException;

  @Override
  void close();
}
