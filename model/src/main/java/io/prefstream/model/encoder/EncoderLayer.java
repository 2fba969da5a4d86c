package io.prefstream.model.encoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.transformer.ScaledDotProductAttentionBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One BERT encoder layer, post-norm as BERT and RoBERTa are: {@code x = LN(x + attention(x))}, then
 * {@code x = LN(x + W2·act(W1·x))}. The attention is DJL's {@link ScaledDotProductAttentionBlock}
 * (query, key and value projections, scaled dot products, softmax, the output projection), given an
 * additive mask [B, 1, 1, T].
 */
final class EncoderLayer extends AbstractBlock {

  private final int intermediateSize;
  private final String activation;
  private final float dropoutRate;
  private final ScaledDotProductAttentionBlock attention;
  private final LayerNorm attentionNorm;
  private final Linear intermediate;
  private final Linear output;
  private final LayerNorm outputNorm;
  private final Dropout dropout;

  EncoderLayer(EncoderConfig config, float dropoutRate) {
    this.intermediateSize = config.intermediate();
    this.activation = config.hiddenAct();
    this.dropoutRate = dropoutRate;
    attention =
        addChildBlock(
            "attention",
            ScaledDotProductAttentionBlock.builder()
                .setEmbeddingSize(config.hidden())
                .setHeadCount(config.heads())
                .optAttentionProbsDropoutProb(dropoutRate)
                .build());
    attentionNorm = addChildBlock("attentionNorm", norm(config));
    intermediate =
        addChildBlock("intermediate", Linear.builder().setUnits(config.intermediate()).build());
    output = addChildBlock("output", Linear.builder().setUnits(config.hidden()).build());
    outputNorm = addChildBlock("outputNorm", norm(config));
    dropout = addChildBlock("dropout", Dropout.builder().optRate(dropoutRate).build());
  }

  static LayerNorm norm(EncoderConfig config) {
    return LayerNorm.builder().axis(2).optEpsilon((float) config.layerNormEps()).build();
  }

  /** This layer's parameters by their Hugging Face names under {@code prefix}. */
  Map<String, Parameter> named(String prefix) {
    Map<String, Parameter> m = new LinkedHashMap<>();
    linear(m, prefix + "attention.self.query", attention.getQueryProjection());
    linear(m, prefix + "attention.self.key", attention.getKeyProjection());
    linear(m, prefix + "attention.self.value", attention.getValueProjection());
    linear(m, prefix + "attention.output.dense", attention.getResultProjection());
    layerNorm(m, prefix + "attention.output.LayerNorm", attentionNorm);
    linear(m, prefix + "intermediate.dense", intermediate);
    linear(m, prefix + "output.dense", output);
    layerNorm(m, prefix + "output.LayerNorm", outputNorm);
    return m;
  }

  static void linear(Map<String, Parameter> m, String name, Linear linear) {
    m.put(name + ".weight", linear.getDirectParameters().get("weight"));
    m.put(name + ".bias", linear.getDirectParameters().get("bias"));
  }

  static void layerNorm(Map<String, Parameter> m, String name, LayerNorm norm) {
    m.put(name + ".weight", norm.getDirectParameters().get("gamma"));
    m.put(name + ".bias", norm.getDirectParameters().get("beta"));
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.get(0);
    NDArray mask = inputs.get(1);
    NDArray attended = attention.forward(store, new NDList(x, mask), training).head();
    x =
        attentionNorm
            .forward(store, new NDList(x.add(drop(store, attended, training))), training)
            .head();
    NDArray h = intermediate.forward(store, new NDList(x), training).head();
    NDArray fed = output.forward(store, new NDList(activate(h)), training).head();
    return outputNorm.forward(store, new NDList(x.add(drop(store, fed, training))), training);
  }

  private NDArray drop(ParameterStore store, NDArray x, boolean training) {
    return training && dropoutRate > 0 ? dropout.forward(store, new NDList(x), true).head() : x;
  }

  private NDArray activate(NDArray x) {
    return switch (activation) {
      case "gelu" -> Activation.gelu(x);
      case "relu" -> Activation.relu(x);
      default -> {
        // the tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        NDArray inner = x.add(x.pow(3).mul(0.044715f)).mul((float) Math.sqrt(2 / Math.PI));
        yield x.mul(inner.tanh().add(1f)).mul(0.5f);
      }
    };
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape x = inputShapes[0];
    attention.initialize(manager, dataType, x);
    attentionNorm.initialize(manager, dataType, x);
    intermediate.initialize(manager, dataType, x);
    output.initialize(manager, dataType, new Shape(x.get(0), x.get(1), intermediateSize));
    outputNorm.initialize(manager, dataType, x);
    dropout.initialize(manager, dataType, x);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }
}
