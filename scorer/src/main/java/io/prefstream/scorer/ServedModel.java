package io.prefstream.scorer;

import io.prefstream.avro.CheckpointPublished;
import io.prefstream.model.Candidate;
import io.prefstream.model.RewardModel;
import io.prefstream.scorer.rollout.CanaryEvidence;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One verified, loaded checkpoint serving scores through its own batching queue. Users take a lease
 * ({@link #acquire}) for the length of a request; once {@link #retire retired} (swapped out), the
 * model is closed when the last lease is released, so in-flight requests finish on it.
 */
public final class ServedModel {

  private final CheckpointPublished checkpoint;
  private final RewardModel model;
  private final ScoringQueue queue;
  private final CanaryEvidence.Normaliser normaliser;
  private final AtomicInteger leases = new AtomicInteger(1); // the owner's
  private volatile boolean retired;

  ServedModel(CheckpointPublished checkpoint, RewardModel model, ScorerConfig config) {
    this.checkpoint = checkpoint;
    this.model = model;
    this.normaliser =
        new CanaryEvidence.Normaliser(checkpoint.getRewardMean(), checkpoint.getRewardStd());
    this.queue =
        new ScoringQueue(
            model,
            config.maxBatch(),
            config.queueCapacity(),
            config.workers(),
            checkpoint.getTenantId()
                + "-"
                + checkpoint.getModel()
                + "-v"
                + checkpoint.getVersion());
  }

  /** The model itself (a delta checkpoint is loaded onto a copy of it; see {@link Serving}). */
  RewardModel model() {
    return model;
  }

  public CheckpointPublished checkpoint() {
    return checkpoint;
  }

  public long version() {
    return checkpoint.getVersion();
  }

  public CanaryEvidence.Normaliser normaliser() {
    return normaliser;
  }

  /** Raw rewards, batched with concurrent requests; fails at once when the queue is full. */
  CompletableFuture<float[]> score(List<Candidate> candidates) {
    return queue.submit(candidates);
  }

  /** Raw rewards now, on the caller's thread (the rollout controller's analysis). */
  public float[] scoreNow(List<Candidate> candidates) {
    return model.score(candidates);
  }

  int queueDepth() {
    return queue.depth();
  }

  long batches() {
    return queue.batches();
  }

  long batchedCandidates() {
    return queue.batchedCandidates();
  }

  /** A lease for one use; false when the model was retired (take the current one instead). */
  public boolean acquire() {
    while (true) {
      int n = leases.get();
      if (n == 0) {
        return false;
      }
      if (leases.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  public void release() {
    if (leases.decrementAndGet() == 0) {
      queue.close();
      model.close();
    }
  }

  /** Drops the owner's lease: closed once in-flight uses end. Idempotent. */
  void retire() {
    synchronized (this) {
      if (retired) {
        return;
      }
      retired = true;
    }
    release();
  }

  boolean retired() {
    return retired;
  }
}
