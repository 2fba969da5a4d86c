package io.prefstream.model.ngram;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Bag pooling and its transpose in SIMD through the JDK's Vector API: 4 to 5 times the scalar loops
 * on the rows' 32 floats, which Java 17's compiler does not vectorize (too short a loop). Loaded
 * only where the JVM runs with {@code --add-modules jdk.incubator.vector} (as {@code ./prefstream}
 * does); see {@link Simd}.
 */
final class VectorBags {

  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_256;
  private static final int LANES = SPECIES.length();

  /** Whether the CPU runs 256-bit vectors natively; elsewhere the API's fallback is slower. */
  static final boolean NATIVE = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;

  private VectorBags() {}

  /**
   * Whether these loops serve rows of {@code dim} floats: the CPU has 256-bit vectors and {@code
   * dim} fills whole vectors. Ask {@link Simd#MODULE} first: this class loads only with the module.
   */
  static boolean fits(int dim) {
    return NATIVE && dim % LANES == 0;
  }

  /** As {@code Bags.pool}: out[b] = Σ values[e] · rows[columns[e]] over bag b's entries. */
  static void pool(
      int[] offsets, int[] columns, float[] values, int bags, float[] rows, int dim, float[] out) {
    for (int b = 0; b < bags; b++) {
      int from = offsets[b];
      int to = offsets[b + 1];
      int o = b * dim;
      int g = 0;
      for (; g + 4 * LANES <= dim; g += 4 * LANES) { // four chains hide the FMA latency
        FloatVector a0 = FloatVector.zero(SPECIES);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int e = from; e < to; e++) {
          FloatVector w = FloatVector.broadcast(SPECIES, values[e]);
          int x = columns[e] * dim + g;
          a0 = FloatVector.fromArray(SPECIES, rows, x).fma(w, a0);
          a1 = FloatVector.fromArray(SPECIES, rows, x + LANES).fma(w, a1);
          a2 = FloatVector.fromArray(SPECIES, rows, x + 2 * LANES).fma(w, a2);
          a3 = FloatVector.fromArray(SPECIES, rows, x + 3 * LANES).fma(w, a3);
        }
        a0.intoArray(out, o + g);
        a1.intoArray(out, o + g + LANES);
        a2.intoArray(out, o + g + 2 * LANES);
        a3.intoArray(out, o + g + 3 * LANES);
      }
      for (; g < dim; g += LANES) {
        FloatVector a = FloatVector.zero(SPECIES);
        for (int e = from; e < to; e++) {
          a =
              FloatVector.fromArray(SPECIES, rows, columns[e] * dim + g)
                  .fma(FloatVector.broadcast(SPECIES, values[e]), a);
        }
        a.intoArray(out, o + g);
      }
    }
  }

  /** As {@code Bags.spread}: rows[columns[e]] += values[e] · pooled[b] over bag b's entries. */
  static void spread(
      int[] offsets,
      int[] columns,
      float[] values,
      int bags,
      float[] pooled,
      int dim,
      float[] rows) {
    for (int b = 0; b < bags; b++) {
      int from = offsets[b];
      int to = offsets[b + 1];
      int o = b * dim;
      int g = 0;
      for (; g + 4 * LANES <= dim; g += 4 * LANES) { // the bag's gradient held in four registers
        FloatVector d0 = FloatVector.fromArray(SPECIES, pooled, o + g);
        FloatVector d1 = FloatVector.fromArray(SPECIES, pooled, o + g + LANES);
        FloatVector d2 = FloatVector.fromArray(SPECIES, pooled, o + g + 2 * LANES);
        FloatVector d3 = FloatVector.fromArray(SPECIES, pooled, o + g + 3 * LANES);
        for (int e = from; e < to; e++) {
          FloatVector w = FloatVector.broadcast(SPECIES, values[e]);
          int x = columns[e] * dim + g;
          d0.fma(w, FloatVector.fromArray(SPECIES, rows, x)).intoArray(rows, x);
          d1.fma(w, FloatVector.fromArray(SPECIES, rows, x + LANES)).intoArray(rows, x + LANES);
          d2.fma(w, FloatVector.fromArray(SPECIES, rows, x + 2 * LANES))
              .intoArray(rows, x + 2 * LANES);
          d3.fma(w, FloatVector.fromArray(SPECIES, rows, x + 3 * LANES))
              .intoArray(rows, x + 3 * LANES);
        }
      }
      for (; g < dim; g += LANES) {
        FloatVector d = FloatVector.fromArray(SPECIES, pooled, o + g);
        for (int e = from; e < to; e++) {
          int x = columns[e] * dim + g;
          d.fma(FloatVector.broadcast(SPECIES, values[e]), FloatVector.fromArray(SPECIES, rows, x))
              .intoArray(rows, x);
        }
      }
    }
  }
}
