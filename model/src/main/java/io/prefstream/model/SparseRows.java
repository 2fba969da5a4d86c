package io.prefstream.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;

/**
 * The rows of a large embedding table one batch touches: the trainer differentiates and updates
 * only these (a lazy, sparse update), not the whole table, which would cost far more than the batch
 * itself.
 *
 * @param table the table parameter (not differentiated as a whole)
 * @param rows the touched row indices, int64 [U]
 * @param values the batch's copy of those rows [U, D], read by the forward pass
 */
public record SparseRows(Parameter table, NDArray rows, NDArray values) {}
