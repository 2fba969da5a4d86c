package io.prefstream.model.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * The transformer reward network: token + position + segment embeddings, a stack of {@link
 * TransformerBlock}s, the first ([CLS]) position's output with the response's structure features,
 * then an MLP to one reward.
 *
 * <p>Inputs: token ids [B, T] (int64), segment ids [B, T] (0 prompt, 1 response), valid [B, T] (1
 * for real tokens, 0 padding), structure [B, S].
 */
final class TransformerRewardBlock extends AbstractBlock {

  private final int maxTokens;
  private final int embedding;
  private final int structure;
  private final Parameter tokens;
  private final Parameter positions;
  private final Parameter segments;
  private final List<TransformerBlock> layers = new ArrayList<>();
  private final LayerNorm finalNorm;
  private final SequentialBlock head;

  TransformerRewardBlock(
      int vocabulary,
      int maxTokens,
      int embedding,
      int heads,
      int layerCount,
      int hidden,
      float dropout,
      int structure) {
    this.maxTokens = maxTokens;
    this.embedding = embedding;
    this.structure = structure;
    tokens = addParameter(table("tokens", vocabulary, embedding));
    positions = addParameter(table("positions", maxTokens, embedding));
    segments = addParameter(table("segments", 2, embedding));
    for (int i = 0; i < layerCount; i++) {
      layers.add(
          addChildBlock(
              "layer" + i, new TransformerBlock(embedding, heads, 4 * embedding, dropout)));
    }
    finalNorm = addChildBlock("finalNorm", LayerNorm.builder().axis(1).build());
    head =
        addChildBlock(
            "head",
            new SequentialBlock()
                .add(Linear.builder().setUnits(hidden).build())
                .add(Activation::gelu)
                .add(Linear.builder().setUnits(1).build()));
  }

  private static Parameter table(String name, int rows, int width) {
    return Parameter.builder()
        .setName(name)
        .setType(Parameter.Type.WEIGHT)
        .optShape(new Shape(rows, width))
        .optInitializer(new NormalInitializer(0.02f))
        .build();
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray ids = inputs.get(0);
    NDArray segmentIds = inputs.get(1);
    NDArray valid = inputs.get(2);
    long batch = ids.getShape().get(0);
    long length = ids.getShape().get(1);
    NDArray tokenTable = store.getValue(tokens, ids.getDevice(), training);
    NDArray positionTable = store.getValue(positions, ids.getDevice(), training);
    NDArray segmentTable = store.getValue(segments, ids.getDevice(), training);
    NDArray x =
        ids.getNDArrayInternal()
            .embedding(ids, tokenTable, SparseFormat.DENSE)
            .head()
            .add(positionTable.get(new NDIndex("0:" + length)).expandDims(0))
            .add(
                segmentIds
                    .getNDArrayInternal()
                    .embedding(segmentIds, segmentTable, SparseFormat.DENSE)
                    .head());
    // Every query may attend to every real token: [B, T, T].
    NDArray mask = valid.expandDims(1).broadcast(new Shape(batch, length, length));
    for (TransformerBlock layer : layers) {
      x = layer.forward(store, new NDList(x, mask), training).head();
    }
    NDArray first = x.get(new NDIndex(":, 0, :"));
    NDArray pooled = finalNorm.forward(store, new NDList(first), training).head();
    NDArray features = NDArrays.concat(new NDList(pooled, inputs.get(3)), 1);
    return head.forward(store, new NDList(features), training, params);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape x = new Shape(1, maxTokens, embedding);
    for (TransformerBlock layer : layers) {
      layer.initialize(manager, dataType, x, new Shape(1, maxTokens, maxTokens));
    }
    finalNorm.initialize(manager, dataType, new Shape(1, embedding));
    head.initialize(manager, dataType, new Shape(1, embedding + structure));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), 1)};
  }
}
