package io.prefstream.model.ngram;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;

/**
 * The ngram-mlp network: one hashed n-gram embedding table pooled into a prompt vector p and a
 * response vector r (a weighted sum, i.e. an embedding bag), then an MLP over [p, r, p⊙r,
 * structure] to one reward. The product p⊙r lets the reward of a response depend on the prompt.
 *
 * <p>Inputs: prompt ids [B, Lp] (int64), prompt weights [B, Lp], response ids [B, Lr], response
 * weights [B, Lr], structure [B, S]. Id 0 with weight 0 pads.
 */
final class NgramMlpBlock extends AbstractBlock {

  private static final byte VERSION = 1;

  private final int dim;
  private final int structure;
  private final Parameter table;
  private final SequentialBlock head;

  NgramMlpBlock(int buckets, int dim, int hidden, float dropout, int structure) {
    super(VERSION);
    this.dim = dim;
    this.structure = structure;
    this.table =
        addParameter(
            Parameter.builder()
                .setName("ngram_table")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(buckets, dim))
                .optInitializer(new NormalInitializer(0.1f))
                .build());
    this.head =
        addChildBlock(
            "head",
            new SequentialBlock()
                .add(Linear.builder().setUnits(hidden).build())
                .add(Activation::gelu)
                .add(Dropout.builder().optRate(dropout).build())
                .add(Linear.builder().setUnits(1).build()));
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray weights = store.getValue(table, inputs.head().getDevice(), training);
    NDArray p = bag(inputs.get(0), inputs.get(1), weights);
    NDArray r = bag(inputs.get(2), inputs.get(3), weights);
    NDArray x = NDArrays.concat(new NDList(p, r, p.mul(r), inputs.get(4)), 1);
    return head.forward(store, new NDList(x), training, params);
  }

  private static NDArray bag(NDArray ids, NDArray values, NDArray weights) {
    NDArray rows = ids.getNDArrayInternal().embedding(ids, weights, SparseFormat.DENSE).head();
    return rows.mul(values.expandDims(2)).sum(new int[] {1});
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    head.initialize(manager, dataType, new Shape(1, 3L * dim + structure));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), 1)};
  }
}
