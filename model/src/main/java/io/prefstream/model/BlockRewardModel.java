package io.prefstream.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/** A {@link RewardModel} whose network is one DJL {@link Block}; subclasses featurize. */
public abstract class BlockRewardModel implements RewardModel {

  /** Candidates per forward pass when scoring. */
  protected static final int SCORE_BATCH = 512;

  private final ModelSpec spec;
  private final Device device;
  private final NDManager manager;
  private final Block block;
  private final ParameterStore parameterStore;

  protected BlockRewardModel(ModelSpec spec, Device device, Block block) {
    this.spec = spec;
    this.device = device;
    this.manager = Engine.getEngine("PyTorch").newBaseManager(device);
    this.block = block;
    this.parameterStore = new ParameterStore(manager, false);
  }

  /** Initializes the parameters at random (seeded by the engine's random seed). */
  protected final void initialize(ai.djl.ndarray.types.Shape... inputShapes) {
    block.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, inputShapes);
  }

  @Override
  public ModelSpec spec() {
    return spec;
  }

  @Override
  public Device device() {
    return device;
  }

  @Override
  public NDManager newBatchManager() {
    return manager.newSubManager();
  }

  @Override
  public NDArray forward(NDList inputs, boolean training) {
    return block.forward(parameterStore, inputs, training).singletonOrThrow().reshape(-1);
  }

  /**
   * Turns autograd recording off on the calling thread. PyTorch's grad mode is per thread and on by
   * default; DJL turns it off only on the thread that started the engine, so every other thread
   * that scores or updates parameters must say so, or each op records a graph.
   */
  public static void noGrad() {
    JniUtils.setGradMode(false);
  }

  @Override
  public float[] score(List<Candidate> candidates) {
    noGrad();
    float[] scores = new float[candidates.size()];
    for (int from = 0; from < candidates.size(); from += SCORE_BATCH) {
      int to = Math.min(candidates.size(), from + SCORE_BATCH);
      try (NDManager batch = newBatchManager()) {
        float[] part = forward(inputs(batch, candidates.subList(from, to)), false).toFloatArray();
        System.arraycopy(part, 0, scores, from, part.length);
      }
    }
    return scores;
  }

  @Override
  public List<Parameter> parameters() {
    List<Parameter> list = new ArrayList<>();
    for (Pair<String, Parameter> p : block.getParameters()) {
      list.add(p.getValue());
    }
    return list;
  }

  @Override
  public void saveParameters(OutputStream out) throws IOException {
    DataOutputStream data = new DataOutputStream(out);
    block.saveParameters(data);
    data.flush();
  }

  @Override
  public void loadParameters(InputStream in) throws IOException {
    try {
      block.loadParameters(manager, new DataInputStream(in));
    } catch (MalformedModelException e) {
      throw new IOException(
          "parameters do not fit a " + spec.type() + " model: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    manager.close();
  }
}
