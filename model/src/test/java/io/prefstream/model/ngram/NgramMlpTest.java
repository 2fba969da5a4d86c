package io.prefstream.model.ngram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import io.prefstream.model.BlockRewardModel;
import io.prefstream.model.Candidate;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import io.prefstream.model.Prepared;
import io.prefstream.model.SparseRows;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NgramMlpTest {

  private static final List<Candidate> BATCH =
      List.of(
          new Candidate("How do I reverse a list?", "Use reversed(xs) or xs[::-1]."),
          new Candidate("How do I reverse a list?", "- xs.reverse()\n- reversed(xs)"),
          new Candidate("Name a prime.", "Seven is prime; so is eleven."),
          new Candidate("", "An answer with no question."));

  /**
   * The rows' gradient, pooled and spread in plain Java (SIMD or not), matches central finite
   * differences of the summed rewards through the table.
   */
  @Test
  void rowGradientsMatchFiniteDifferences() {
    ModelSpec spec =
        ModelSpec.defaults()
            .with(ModelOptions.BUCKETS, 2048)
            .with(ModelOptions.EMBEDDING_DIM, 16)
            .with(ModelOptions.HIDDEN, 8);
    try (NgramMlp model = new NgramMlp(spec, Device.cpu());
        NDManager manager = model.newBatchManager()) {
      BlockRewardModel.noGrad();
      Prepared prepared = model.prepare(BATCH);
      NDList inputs = model.inputs(manager, prepared);
      SparseRows rows = model.sparseRows(inputs, prepared).orElseThrow();
      rows.track();
      try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
        collector.backward(model.forward(inputs, true).sum());
      }
      float[] gradient = rows.gradient();
      long[] rowIds = rows.rows();
      NDArray table = model.parameters().get(0).getArray();
      assertThat(model.parameters().get(0).getName()).isEqualTo("ngram_table");
      Random random = new Random(3);
      int checked = 0;
      for (int trial = 0; trial < 40 && checked < 12; trial++) {
        int u = 1 + random.nextInt(rowIds.length - 1); // row 0 is padding
        int k = random.nextInt(16);
        float expected = gradient[u * 16 + k];
        if (Math.abs(expected) < 1e-4) {
          continue;
        }
        NDIndex cell = new NDIndex(rowIds[u] + "," + k);
        float original = table.get(cell).getFloat();
        float eps = 1e-2f;
        table.set(cell, original + eps);
        float up = sum(model.score(BATCH));
        table.set(cell, original - eps);
        float down = sum(model.score(BATCH));
        table.set(cell, original);
        assertThat((up - down) / (2 * eps))
            .as("row %d col %d", u, k)
            .isCloseTo(expected, within(2e-3f + 0.05f * Math.abs(expected)));
        checked++;
      }
      assertThat(checked).isGreaterThan(5);
    }
  }

  @Test
  void simdPoolingMatchesTheScalarLoops() {
    assumeTrue(Simd.MODULE, "runs where the JVM has jdk.incubator.vector (surefire adds it)");
    Random random = new Random(5);
    int dim = 40; // one 32-float block and a lone vector
    int bags = 30;
    int rows = 200;
    int[] offsets = new int[bags + 1];
    for (int b = 0; b < bags; b++) {
      offsets[b + 1] = offsets[b] + random.nextInt(50);
    }
    int[] columns = new int[offsets[bags]];
    float[] values = new float[offsets[bags]];
    for (int e = 0; e < columns.length; e++) {
      columns[e] = random.nextInt(rows);
      values[e] = random.nextFloat();
    }
    float[] table = new float[rows * dim];
    for (int i = 0; i < table.length; i++) {
      table[i] = (float) random.nextGaussian();
    }
    assumeTrue(VectorBags.fits(dim), "the CPU has 256-bit vectors");
    float[] pooled = new float[bags * dim];
    VectorBags.pool(offsets, columns, values, bags, table, dim, pooled);
    float[] spread = new float[rows * dim];
    VectorBags.spread(offsets, columns, values, bags, pooled, dim, spread);
    float[] expectedPooled = new float[bags * dim];
    float[] expectedSpread = new float[rows * dim];
    NgramMlp.poolScalar(offsets, columns, values, bags, table, dim, expectedPooled);
    NgramMlp.spreadScalar(offsets, columns, values, bags, expectedPooled, dim, expectedSpread);
    assertThat(pooled).containsExactly(expectedPooled, within(1e-4f));
    assertThat(spread).containsExactly(expectedSpread, within(1e-3f));
  }

  private static float sum(float[] values) {
    float s = 0;
    for (float v : values) {
      s += v;
    }
    return s;
  }
}
