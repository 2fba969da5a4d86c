package io.prefstream.model.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.transformer.ScaledDotProductAttentionBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * One pre-norm transformer encoder layer: {@code x + attention(LN(x), mask)}, then {@code x +
 * FFN(LN(x))}. DJL's own TransformerEncoderBlock normalises with BatchNorm after the residual;
 * layer norm before it trains more stably from scratch and keeps no running statistics.
 *
 * <p>Inputs: tokens [B, T, E] and the attention mask [B, T, T] (1 where attending is allowed).
 */
final class TransformerBlock extends AbstractBlock {

  private final LayerNorm attentionNorm;
  private final ScaledDotProductAttentionBlock attention;
  private final LayerNorm feedForwardNorm;
  private final SequentialBlock feedForward;
  private final Dropout dropout;

  TransformerBlock(int embedding, int heads, int hidden, float dropoutRate) {
    attentionNorm = addChildBlock("attentionNorm", LayerNorm.builder().axis(2).build());
    attention =
        addChildBlock(
            "attention",
            ScaledDotProductAttentionBlock.builder()
                .setEmbeddingSize(embedding)
                .setHeadCount(heads)
                .optAttentionProbsDropoutProb(dropoutRate)
                .build());
    feedForwardNorm = addChildBlock("feedForwardNorm", LayerNorm.builder().axis(2).build());
    feedForward =
        addChildBlock(
            "feedForward",
            new SequentialBlock()
                .add(Linear.builder().setUnits(hidden).build())
                .add(Activation::gelu)
                .add(Linear.builder().setUnits(embedding).build()));
    dropout = addChildBlock("dropout", Dropout.builder().optRate(dropoutRate).build());
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.get(0);
    NDArray mask = inputs.get(1);
    NDArray normed = attentionNorm.forward(store, new NDList(x), training).head();
    NDArray attended = attention.forward(store, new NDList(normed, mask), training).head();
    x = x.add(dropout.forward(store, new NDList(attended), training).head());
    NDArray normed2 = feedForwardNorm.forward(store, new NDList(x), training).head();
    NDArray fed = feedForward.forward(store, new NDList(normed2), training).head();
    return new NDList(x.add(dropout.forward(store, new NDList(fed), training).head()));
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape x = inputShapes[0];
    attentionNorm.initialize(manager, dataType, x);
    attention.initialize(manager, dataType, x);
    feedForwardNorm.initialize(manager, dataType, x);
    feedForward.initialize(manager, dataType, x);
    dropout.initialize(manager, dataType, x);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }
}
