package io.prefstream.model.ngram;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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
 * <p>Inputs: the pooled prompt and response vectors [B, D] and structure [B, S]. {@link NgramMlp}
 * pools them from the table rows the batch reads, so training touches only those rows.
 */
final class NgramMlpBlock extends AbstractBlock {

  private static final byte VERSION = 1;
  static final int PROMPTS = 0;
  static final int RESPONSES = 1;
  static final int STRUCTURE = 2;

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
                .optRequiresGrad(false) // trained sparsely, by rows: see SparseRows
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
    NDArray p = inputs.get(PROMPTS);
    NDArray r = inputs.get(RESPONSES);
    NDArray x = NDArrays.concat(new NDList(p, r, p.mul(r), inputs.get(STRUCTURE)), 1);
    return head.forward(store, new NDList(x), training, params);
  }

  Parameter table() {
    return table;
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
