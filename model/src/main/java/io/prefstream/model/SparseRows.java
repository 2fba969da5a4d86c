package io.prefstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;

/**
 * The rows of a large embedding table one batch reads: the trainer updates only these (a lazy,
 * sparse update), not the whole table, which would cost far more than the batch itself.
 */
public interface SparseRows {

  /** The table parameter, not differentiated as a whole. */
  Parameter table();

  /** The rows read, int64 [U]. */
  NDArray rows();

  /** The batch's copy of those rows [U, D]; the optimizer updates it and writes it back. */
  NDArray values();

  /** Called before the training forward pass, so that {@link #gradient} can be computed. */
  void track();

  /** After the backward pass: the loss's gradient with respect to {@link #values}, [U, D]. */
  NDArray gradient();
}
