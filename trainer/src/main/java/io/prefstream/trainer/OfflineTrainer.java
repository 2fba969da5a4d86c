package io.prefstream.trainer;

import io.prefstream.model.checkpoint.CheckpointStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Trains on a dataset through the same {@link TenantModel} path as the online trainer: micro-
 * batches with replay, prequential accuracy on the first pass (each pair scored before it is
 * trained on), holdout evaluation, and a checkpoint in a store that {@code checkpoint publish} can
 * announce.
 */
public final class OfflineTrainer {

  private final TrainerConfig config;
  private final TrainerMetrics metrics;
  private final boolean decay;

  public OfflineTrainer(TrainerConfig config, TrainerMetrics metrics) {
    this(config, metrics, true);
  }

  /**
   * @param decay whether the learning rate decays linearly to zero over the run (offline), or stays
   *     constant after warm-up as the online trainer's does (to measure an online pass)
   */
  public OfflineTrainer(TrainerConfig config, TrainerMetrics metrics, boolean decay) {
    this.config = config;
    this.metrics = metrics;
    this.decay = decay;
    io.prefstream.model.Devices.useEngineThreads(config.engineThreads(), config.model().type());
  }

  /**
   * The figures of one offline run.
   *
   * @param holdoutAccuracy accuracy on the evaluation pairs after the last epoch
   * @param onlineHoldoutAccuracy accuracy on them after the first epoch (one online pass)
   * @param prequentialAccuracy accuracy of the first pass, each pair scored before training on it
   * @param pairs training pairs
   * @param epochs epochs run
   * @param evalAccuracy accuracy on each extra evaluation set, by name
   * @param checkpoint where the checkpoint was written
   * @param truncatedPairs training pairs (each counted once) of which a candidate lost text to the
   *     model's input limit
   * @param firstEpochSeconds how long the first epoch took (training and its evaluation)
   */
  public record Result(
      double holdoutAccuracy,
      double onlineHoldoutAccuracy,
      double prequentialAccuracy,
      int pairs,
      int epochs,
      Map<String, Double> evalAccuracy,
      String checkpoint,
      long truncatedPairs,
      double firstEpochSeconds) {}

  /** Where a run stands, reported after each step. */
  @FunctionalInterface
  public interface Progress {
    /**
     * @param epoch the epoch in progress, from 1
     * @param trained pairs trained so far, over all epochs
     * @param total pairs the run trains, over all epochs
     * @param prequential prequential accuracy of the first epoch so far
     */
    void report(int epoch, long trained, long total, double prequential);
  }

  public Result train(
      String tenant,
      List<TrainingPair> train,
      List<TrainingPair> holdout,
      Map<String, List<TrainingPair>> extraEvals,
      int epochs,
      CheckpointStore store)
      throws IOException {
    return train(tenant, train, holdout, extraEvals, epochs, store, (e, t, n, p) -> {});
  }

  public Result train(
      String tenant,
      List<TrainingPair> train,
      List<TrainingPair> holdout,
      Map<String, List<TrainingPair>> extraEvals,
      int epochs,
      CheckpointStore store,
      Progress progress)
      throws IOException {
    try (TenantModel model = TenantModel.fresh(tenant, config, metrics)) {
      for (TrainingPair p : holdout) {
        model.addHoldout(p);
      }
      Random shuffle = new Random(config.seed());
      List<TrainingPair> order = new ArrayList<>(train);
      double prequential = Double.NaN;
      double online = Double.NaN;
      long truncated = 0;
      double firstEpochSeconds = Double.NaN;
      long started = System.nanoTime();
      long stepsPerEpoch = (order.size() + config.batchSize() - 1) / config.batchSize();
      if (decay) {
        // Linear warm-up, then linear decay to zero at the last step of the last epoch.
        model.learner().decayUntil(model.learner().steps() + epochs * stepsPerEpoch);
      }
      for (int epoch = 1; epoch <= epochs; epoch++) {
        // Every pass in a seeded shuffled order, the first too: datasets come sorted by source
        // (HH's subsets disagree on length), and an online pass in file order ends tuned to
        // whichever subset came last.
        Collections.shuffle(order, shuffle);
        for (int from = 0; from < order.size(); from += config.batchSize()) {
          for (TrainingPair p :
              order.subList(from, Math.min(order.size(), from + config.batchSize()))) {
            model.addTrain(p, 0);
          }
          model.trainPending();
          progress.report(
              epoch,
              (long) (epoch - 1) * order.size() + Math.min(order.size(), from + config.batchSize()),
              (long) epochs * order.size(),
              epoch == 1 ? model.prequentialOverall() : prequential);
        }
        if (epoch == 1) {
          prequential = model.prequentialOverall();
          truncated = model.truncatedPairs();
          online = model.evaluate().accuracy();
          firstEpochSeconds = (System.nanoTime() - started) / 1e9;
        }
      }
      model.evaluate(); // scores the holdout once; the evaluations below reuse those scores
      Map<String, Double> evals = new LinkedHashMap<>();
      for (var e : extraEvals.entrySet()) {
        evals.put(e.getKey(), model.accuracy(e.getValue()));
      }
      Map<String, Double> extra = new LinkedHashMap<>();
      extra.put("epochs", (double) epochs);
      extra.put("online_holdout_accuracy", online);
      evals.forEach((k, v) -> extra.put("eval_accuracy." + k, v));
      TenantModel.Outcome outcome = model.checkpoint(store, List.of(), extra);
      double holdoutAccuracy =
          outcome.written()
              ? outcome.manifest().metrics().getOrDefault("holdout_accuracy", Double.NaN)
              : model.evaluate().accuracy();
      return new Result(
          holdoutAccuracy,
          online,
          prequential,
          train.size(),
          epochs,
          evals,
          outcome.written() ? store.fetch(outcome.manifest().id()).toString() : null,
          truncated,
          firstEpochSeconds);
    }
  }
}
