package io.prefstream.model.ngram;

/**
 * Whether the JVM has the Vector API ({@code jdk.incubator.vector}) in its boot layer, asked
 * without loading any class of it, so that {@link VectorBags} is touched only where it can load.
 * {@code -Dprefstream.scalar=true} turns it off, for comparisons.
 */
final class Simd {

  static final boolean MODULE =
      ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
          && !Boolean.getBoolean("prefstream.scalar");

  private Simd() {}
}
