package io.prefstream.trainer;

/**
 * The optimisation hyper-parameters of a {@link Learner}.
 *
 * @param learningRate AdamW step size (the peak, after warm-up)
 * @param weightDecay AdamW decoupled weight decay
 * @param beta1 AdamW first-moment decay
 * @param beta2 AdamW second-moment decay
 * @param clipNorm global gradient-norm bound; 0 turns clipping off
 * @param centerCoefficient reward-centring coefficient: adds c·mean((r_c + r_r)²) (TRL's
 *     center_rewards_coefficient), 0 turns it off
 * @param warmupSteps optimizer steps over which the learning rate rises linearly to its peak
 * @param layerDecay layer-wise learning-rate decay: each parameter group below the head learns at
 *     this factor of the group above (1: off)
 * @param freezeEmbeddings whether the embeddings (a layered model's lowest group) are not trained
 * @param freezeLayers how many of the lowest layers above the embeddings are not trained
 * @param passPairs most pairs in one forward-backward pass (gradients accumulate over the passes of
 *     a step); 0: the model's own choice
 */
public record LearnerSettings(
    double learningRate,
    double weightDecay,
    double beta1,
    double beta2,
    double clipNorm,
    double centerCoefficient,
    int warmupSteps,
    double layerDecay,
    boolean freezeEmbeddings,
    int freezeLayers,
    int passPairs) {

  public static LearnerSettings defaults() {
    return new LearnerSettings(3e-3, 0.01, 0.9, 0.999, 1.0, 0.01, 0, 1.0, false, 0, 0);
  }

  /** These settings with another peak learning rate and warm-up. */
  public LearnerSettings withLearningRate(double rate, int warmup) {
    return new LearnerSettings(
        rate,
        weightDecay,
        beta1,
        beta2,
        clipNorm,
        centerCoefficient,
        warmup,
        layerDecay,
        freezeEmbeddings,
        freezeLayers,
        passPairs);
  }

  /** These settings with layer-wise decay, freezing and pass size for a layered model. */
  public LearnerSettings withLayers(
      double decay, boolean embeddings, int layers, int pairsPerPass) {
    return new LearnerSettings(
        learningRate,
        weightDecay,
        beta1,
        beta2,
        clipNorm,
        centerCoefficient,
        warmupSteps,
        decay,
        embeddings,
        layers,
        pairsPerPass);
  }
}
