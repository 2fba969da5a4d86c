package io.prefstream.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/**
 * The PyTorch engine loads from the jars on the classpath with no network, computes, and
 * differentiates: what the trainer and scorer stand on.
 */
class LibtorchTest {

  @Test
  void pytorchEngineLoadsOfflineAndDifferentiatesTheBradleyTerryLoss() {
    Engine engine = Engine.getEngine("PyTorch");
    assertThat(engine.getVersion()).startsWith("2.7.1");
    try (NDManager manager = engine.newBaseManager()) {
      NDArray a = manager.create(new float[] {1, 2, 3, 4}, new Shape(2, 2));
      NDArray b = manager.create(new float[] {5, 6, 7, 8}, new Shape(2, 2));
      assertThat(a.matMul(b).toFloatArray()).containsExactly(19, 22, 43, 50);

      // -log sigmoid(rc - rr): its gradient wrt rc is -(1 - sigmoid(rc - rr)).
      NDArray rc = manager.create(new float[] {0.5f});
      NDArray rr = manager.create(new float[] {-0.5f});
      rc.setRequiresGradient(true);
      try (GradientCollector collector = engine.newGradientCollector()) {
        NDArray loss = rc.sub(rr).neg().exp().add(1).log();
        collector.backward(loss);
      }
      double sigmoid = 1 / (1 + Math.exp(-1.0));
      assertThat(rc.getGradient().getFloat(0)).isCloseTo((float) -(1 - sigmoid), within(1e-5f));
    }
  }
}
