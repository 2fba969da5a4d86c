package io.prefstream.model;

import ai.djl.nn.Parameter;

/**
 * The rows of a large embedding table one batch reads: the trainer updates only these (a lazy,
 * sparse update), not the whole table, which would cost far more than the batch itself.
 */
public interface SparseRows {

  /** The table parameter [rows, {@link #dim}], not differentiated as a whole. */
  Parameter table();

  /** The distinct rows read. */
  long[] rows();

  /** Floats per row. */
  int dim();

  /** Called before the training forward pass, so that {@link #gradient} can be computed. */
  void track();

  /**
   * After the backward pass: the loss's gradient with respect to the rows read, [rows().length,
   * dim()] row-major.
   */
  float[] gradient();
}
