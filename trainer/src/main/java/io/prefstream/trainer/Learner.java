package io.prefstream.trainer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.prefstream.model.BlockRewardModel;
import io.prefstream.model.Candidate;
import io.prefstream.model.Prepared;
import io.prefstream.model.RewardModel;
import io.prefstream.model.SparseRows;
import io.prefstream.trainer.internal.AdamW;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Trains one reward model with the Bradley-Terry loss {@code -w·log σ(r_c − r_r − margin)} (plus
 * optional reward centring) and AdamW, one micro-batch at a time. Each step first scores the fresh
 * pairs with the current parameters (the prequential outcome), then learns from them and the
 * replayed ones. A step whose loss or gradient is not finite changes nothing and is reported.
 */
public final class Learner implements AutoCloseable {

  /**
   * DJL's PyTorch engine allows one gradient collector at a time in a process: learners that train
   * side by side in one JVM (the online trainer and an offline run beside it, such as the demo's
   * poisoned checkpoint) take turns for the backward pass.
   */
  private static final ReentrantLock GRADIENTS = new ReentrantLock();

  private final RewardModel model;
  private final LearnerSettings settings;
  private final AdamW optimizer;
  private final List<Parameter> parameters;

  public Learner(RewardModel model, LearnerSettings settings) {
    this.model = model;
    this.settings = settings;
    this.optimizer =
        new AdamW(
            (float) settings.learningRate(),
            (float) settings.weightDecay(),
            (float) settings.beta1(),
            (float) settings.beta2(),
            1e-8f);
    this.parameters = model.parameters();
    attachGradients();
  }

  public RewardModel model() {
    return model;
  }

  public long steps() {
    return optimizer.steps();
  }

  /**
   * The outcome of one step.
   *
   * @param freshCorrect fresh pairs the model ordered correctly before learning from them (ties
   *     count half)
   * @param fresh fresh pairs in the step
   * @param loss the batch's mean loss (NaN when skipped for it)
   * @param gradientNorm global gradient norm before clipping
   * @param skipped why the update was skipped, or null when it was applied
   */
  public record Step(
      double freshCorrect, int fresh, double loss, double gradientNorm, String skipped) {
    public boolean applied() {
      return skipped == null;
    }
  }

  /** Fresh and replayed pairs featurized for one step. */
  public record Batch(List<TrainingPair> fresh, List<TrainingPair> replay, Prepared prepared) {}

  /**
   * Featurizes a step's pairs; touches no engine state, so the next step's batch can be prepared on
   * another thread while this one trains.
   */
  public Batch prepare(List<TrainingPair> fresh, List<TrainingPair> replay) {
    List<TrainingPair> batch = new ArrayList<>(fresh.size() + replay.size());
    batch.addAll(fresh);
    batch.addAll(replay);
    return new Batch(fresh, replay, model.prepare(candidates(batch)));
  }

  /** One update from {@code fresh} pairs (scored first) and {@code replay} pairs (not scored). */
  public Step step(List<TrainingPair> fresh, List<TrainingPair> replay) {
    return step(prepare(fresh, replay));
  }

  /** One update from a prepared batch: its fresh pairs are scored first, then all are learned. */
  public Step step(Batch prepared) {
    List<TrainingPair> fresh = prepared.fresh();
    List<TrainingPair> batch = new ArrayList<>(fresh.size() + prepared.replay().size());
    batch.addAll(fresh);
    batch.addAll(prepared.replay());
    int n = batch.size();
    BlockRewardModel.noGrad(); // only the collector below records
    try (NDManager manager = model.newBatchManager()) {
      NDList inputs = model.inputs(manager, prepared.prepared());
      double correct = 0;
      boolean scoredApart = !fresh.isEmpty() && model.stochasticInTraining();
      if (scoredApart) {
        float[] rewards = model.forward(inputs, false).toFloatArray();
        correct = correctCount(rewards, n, fresh.size());
      }
      float[] weights = new float[n];
      float[] margins = new float[n];
      for (int i = 0; i < n; i++) {
        weights[i] = (float) batch.get(i).weight();
        margins[i] = (float) batch.get(i).margin();
      }
      List<SparseRows> sparse = model.sparseRows(inputs, prepared.prepared()).stream().toList();
      for (SparseRows rows : sparse) {
        rows.track();
      }
      double loss;
      GRADIENTS.lock();
      try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
        NDArray rewards = model.forward(inputs, true);
        if (!scoredApart && !fresh.isEmpty()) {
          // No dropout: the training pass is the inference pass, before any update.
          correct = correctCount(rewards.toFloatArray(), n, fresh.size());
        }
        NDArray lossArray =
            loss(
                rewards.get("0:" + n),
                rewards.get(n + ":"),
                manager.create(weights),
                manager.create(margins));
        loss = lossArray.getFloat();
        if (!Double.isFinite(loss)) {
          return new Step(correct, fresh.size(), loss, Double.NaN, "non-finite loss");
        }
        collector.backward(lossArray);
      } finally {
        GRADIENTS.unlock();
      }
      double norm = gradientNorm(sparse);
      if (!Double.isFinite(norm)) {
        zeroGradients();
        return new Step(correct, fresh.size(), loss, norm, "non-finite gradient");
      }
      float rescale =
          settings.clipNorm() > 0 && norm > settings.clipNorm()
              ? (float) (settings.clipNorm() / norm)
              : 1f;
      optimizer.step(parameters, sparse, rescale);
      return new Step(correct, fresh.size(), loss, norm, null);
    }
  }

  /** How many pairs the model orders correctly (ties count half), without learning. */
  public double correct(List<TrainingPair> pairs) {
    return correct(model, pairs);
  }

  /** Rewards of every chosen response, then of every rejected one. */
  public float[] scores(List<TrainingPair> pairs) {
    return scores(model, pairs);
  }

  /** How many pairs {@code model} orders correctly (ties count half). */
  public static double correct(RewardModel model, List<TrainingPair> pairs) {
    return correctCount(scores(model, pairs), pairs.size(), pairs.size());
  }

  /** {@code model}'s rewards of every chosen response, then of every rejected one. */
  public static float[] scores(RewardModel model, List<TrainingPair> pairs) {
    return model.score(candidates(pairs));
  }

  private static double correctCount(float[] rewards, int n, int first) {
    double correct = 0;
    for (int i = 0; i < first; i++) {
      float d = rewards[i] - rewards[n + i];
      correct += d > 0 ? 1 : d == 0 ? 0.5 : 0;
    }
    return correct;
  }

  /** Mean of w·softplus(−(r_c − r_r − m)) over the batch, plus c·mean((r_c + r_r)²). */
  NDArray loss(NDArray chosen, NDArray rejected, NDArray weights, NDArray margins) {
    NDArray bt = Activation.softPlus(chosen.sub(rejected).sub(margins).neg()).mul(weights).mean();
    if (settings.centerCoefficient() > 0) {
      NDArray sum = chosen.add(rejected);
      bt = bt.add(sum.mul(sum).mean().mul((float) settings.centerCoefficient()));
    }
    return bt;
  }

  private static List<Candidate> candidates(List<TrainingPair> pairs) {
    List<Candidate> list = new ArrayList<>(2 * pairs.size());
    for (TrainingPair p : pairs) {
      list.add(p.chosenCandidate());
    }
    for (TrainingPair p : pairs) {
      list.add(p.rejectedCandidate());
    }
    return list;
  }

  private double gradientNorm(List<SparseRows> sparse) {
    double sum = 0;
    for (Parameter p : parameters) {
      if (p.requiresGradient()) {
        try (NDArray grad = p.getArray().getGradient();
            NDArray squares = grad.square().sum()) {
          sum += squares.getFloat();
        }
      }
    }
    for (SparseRows rows : sparse) {
      for (float g : rows.gradient()) {
        sum += (double) g * g;
      }
    }
    return Math.sqrt(sum);
  }

  private void zeroGradients() {
    for (Parameter p : parameters) {
      if (p.requiresGradient()) {
        JniUtils.zeroGrad((PtNDArray) p.getArray());
      }
    }
  }

  /** Whether every parameter is finite: checked before any checkpoint is written. */
  public boolean finite() {
    for (Parameter p : parameters) {
      try (NDArray bad = p.getArray().isNaN().logicalOr(p.getArray().isInfinite()).any()) {
        if (bad.getBoolean()) {
          return false;
        }
      }
    }
    return true;
  }

  public void saveParameters(OutputStream out) throws IOException {
    model.saveParameters(out);
  }

  public byte[] optimizerState() {
    return optimizer.encode(parameters);
  }

  /** Restores parameters and optimizer state saved by a checkpoint. */
  public void restore(InputStream parametersIn, byte[] optimizerState, long steps)
      throws IOException {
    model.loadParameters(parametersIn);
    attachGradients();
    optimizer.restore(parameters, optimizerState, steps);
  }

  private void attachGradients() {
    for (Parameter p : parameters) {
      if (p.requiresGradient()) {
        p.getArray().setRequiresGradient(true);
      }
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
