package io.prefstream.trainer.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.prefstream.model.HostTable;
import io.prefstream.model.SparseRows;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AdamWTest {

  private static final int ROWS = 10;
  private static final int DIM = 4;

  /** The rows' update in host memory is the engine's AdamW update of those rows, and only them. */
  @Test
  void rowsUpdatedInHostMemoryMatchTheEnginesUpdate() {
    try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
      Random random = new Random(11);
      float[] start = new float[ROWS * DIM];
      for (int i = 0; i < start.length; i++) {
        start[i] = (float) random.nextGaussian();
      }
      long[] rows = {1, 3, 7};
      float[][] gradients = new float[3][rows.length * DIM];
      for (float[] g : gradients) {
        for (int i = 0; i < g.length; i++) {
          g[i] = (float) random.nextGaussian();
        }
      }
      float[][] results = new float[2][];
      for (int way = 0; way < 2; way++) {
        AdamW adam = new AdamW(0.01f, 0.1f, 0.9f, 0.999f, 1e-8f);
        NDArray table = manager.create(start.clone(), new Shape(ROWS, DIM));
        NDArray[] moments = {manager.zeros(table.getShape()), manager.zeros(table.getShape())};
        for (int step = 1; step <= gradients.length; step++) {
          float biasCorrected =
              (float) (0.01 * Math.sqrt(1 - Math.pow(0.999, step)) / (1 - Math.pow(0.9, step)));
          float[] gradient = gradients[step - 1];
          if (way == 0) {
            adam.updateRows(
                HostTable.view(table).orElseThrow(),
                HostTable.view(moments[0]).orElseThrow(),
                HostTable.view(moments[1]).orElseThrow(),
                rows,
                DIM,
                gradient,
                0.01f,
                biasCorrected,
                0.5f);
          } else {
            adam.updateRowsInEngine(
                table, moments, rows(table, rows, gradient), 0.01f, biasCorrected, 0.5f);
          }
        }
        results[way] = table.toFloatArray();
      }
      for (int i = 0; i < start.length; i++) {
        long row = i / DIM;
        if (row == 1 || row == 3 || row == 7) {
          assertThat(results[0][i]).as("cell %d", i).isNotEqualTo(start[i]);
          assertThat(results[0][i]).as("cell %d", i).isCloseTo(results[1][i], within(1e-6f));
        } else {
          assertThat(results[0][i]).as("untouched cell %d", i).isEqualTo(start[i]);
          assertThat(results[1][i]).as("untouched cell %d", i).isEqualTo(start[i]);
        }
      }
    }
  }

  private static SparseRows rows(NDArray table, long[] rows, float[] gradient) {
    Parameter parameter =
        Parameter.builder().setName("table").setType(Parameter.Type.WEIGHT).build();
    parameter.setArray(table);
    return new SparseRows() {
      @Override
      public Parameter table() {
        return parameter;
      }

      @Override
      public long[] rows() {
        return rows;
      }

      @Override
      public int dim() {
        return DIM;
      }

      @Override
      public void track() {}

      @Override
      public float[] gradient() {
        return gradient;
      }
    };
  }
}
