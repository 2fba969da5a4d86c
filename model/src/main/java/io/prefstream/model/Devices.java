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

  /**
   * Sets the engine's intra-op threads for a process that runs {@code modelType}: {@code requested}
   * when positive; else one fewer than the cores for models whose featurizing keeps a core busy
   * beside the engine (ngram-mlp, embed-mlp), as engine threads spinning for a core that featurizes
   * cost more than they add (on 2 cores, ngram-mlp trains about 15% faster on one engine thread);
   * and every core for transformer and encoder. Process-wide; returns the count set.
   */
  public static int useEngineThreads(int requested, String modelType) {
    int cores = Runtime.getRuntime().availableProcessors();
    int threads =
        requested > 0
            ? requested
            : modelType.equals("transformer") || modelType.equals("encoder")
                ? cores
                : Math.max(1, cores - 1);
    Engine.getEngine("PyTorch"); // loads the natives first
    ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
    return threads;
  }
}
