package io.prefstream.trainer;

/**
 * The optimisation hyper-parameters of a {@link Learner}.
 *
 * @param learningRate AdamW step size
 * @param weightDecay AdamW decoupled weight decay
 * @param beta1 AdamW first-moment decay
 * @param beta2 AdamW second-moment decay
 * @param clipNorm global gradient-norm bound; 0 turns clipping off
 * @param centerCoefficient reward-centring coefficient: adds c·mean((r_c + r_r)²) (TRL's
 *     center_rewards_coefficient), 0 turns it off
 */
public record LearnerSettings(
    double learningRate,
    double weightDecay,
    double beta1,
    double beta2,
    double clipNorm,
    double centerCoefficient) {

  public static LearnerSettings defaults() {
    return new LearnerSettings(3e-3, 0.01, 0.9, 0.999, 1.0, 0.01);
  }
}
