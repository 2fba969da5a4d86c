package io.prefstream.model;

import ai.djl.Device;
import ai.djl.engine.Engine;

/**
 * Resolves {@code model.device}: {@code auto} takes the first GPU the engine sees, else the CPU.
 */
public final class Devices {

  private Devices() {}

  public static Device resolve(String choice) {
    int gpus = Engine.getEngine("PyTorch").getGpuCount();
    return switch (choice) {
      case "cpu" -> Device.cpu();
      case "gpu" -> {
        if (gpus == 0) {
          throw new IllegalStateException(
              "model.device=gpu but the PyTorch engine sees no GPU (the CPU natives are on the"
                  + " classpath; see trainer/README.md for the CUDA build)");
        }
        yield Device.gpu();
      }
      case "auto" -> gpus > 0 ? Device.gpu() : Device.cpu();
      default ->
          throw new IllegalArgumentException(
              "model.device: expected auto, cpu or gpu, got '" + choice + "'");
    };
  }
}
