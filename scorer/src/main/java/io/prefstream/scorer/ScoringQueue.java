package io.prefstream.scorer;

import io.prefstream.model.Candidate;
import io.prefstream.model.RewardModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches concurrent requests into model calls: each worker takes the oldest waiting request and as
 * many more as fit in {@code maxBatch} candidates, scores them in one call and answers each. The
 * queue holds at most {@code capacity} candidates; a request that does not fit is refused at once
 * ({@link Overloaded}), so overload answers 429 instead of growing latency without bound.
 */
final class ScoringQueue implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ScoringQueue.class);

  /** Too many candidates already wait. */
  static final class Overloaded extends RuntimeException {
    Overloaded(String message) {
      super(message, null, false, false);
    }
  }

  private record Job(List<Candidate> candidates, CompletableFuture<float[]> result) {}

  private final RewardModel model;
  private final int maxBatch;
  private final int capacity;
  private final Semaphore room;
  private final LinkedBlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
  private final List<Thread> workers = new ArrayList<>();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong batchedCandidates = new AtomicLong();
  private volatile boolean closed;

  ScoringQueue(RewardModel model, int maxBatch, int capacity, int workers, String name) {
    this.model = model;
    this.maxBatch = maxBatch;
    this.capacity = capacity;
    this.room = new Semaphore(capacity);
    for (int i = 0; i < workers; i++) {
      Thread t = new Thread(this::work, "scorer-" + name + "-" + i);
      t.setDaemon(true);
      t.start();
      this.workers.add(t);
    }
  }

  /**
   * Queues candidates for scoring.
   *
   * @throws Overloaded when they do not fit in the queue
   */
  CompletableFuture<float[]> submit(List<Candidate> candidates) {
    int n = candidates.size();
    if (closed) {
      throw new IllegalStateException("scoring queue closed");
    }
    if (n > capacity || !room.tryAcquire(n)) {
      throw new Overloaded(
          "the model's queue is full ("
              + (capacity - room.availablePermits())
              + " of "
              + capacity
              + " candidates waiting)");
    }
    Job job = new Job(candidates, new CompletableFuture<>());
    jobs.add(job);
    return job.result();
  }

  /** Candidates waiting or being scored. */
  int depth() {
    return capacity - room.availablePermits();
  }

  long batches() {
    return batches.get();
  }

  long batchedCandidates() {
    return batchedCandidates.get();
  }

  private void work() {
    List<Job> batch = new ArrayList<>();
    while (!closed || !jobs.isEmpty()) {
      try {
        Job first = jobs.poll(100, TimeUnit.MILLISECONDS);
        if (first == null || dropped(first)) {
          continue;
        }
        batch.clear();
        batch.add(first);
        int size = first.candidates().size();
        Job next;
        while ((next = jobs.peek()) != null && size + next.candidates().size() <= maxBatch) {
          Job taken = jobs.poll();
          if (taken == null) {
            break;
          }
          if (dropped(taken)) {
            continue;
          }
          batch.add(taken);
          size += taken.candidates().size();
        }
        score(batch, size);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Whether the job was cancelled (its request timed out) while queued: then it is not scored. */
  private boolean dropped(Job job) {
    if (!job.result().isCancelled()) {
      return false;
    }
    room.release(job.candidates().size());
    return true;
  }

  private void score(List<Job> batch, int size) {
    List<Candidate> all = new ArrayList<>(size);
    for (Job job : batch) {
      all.addAll(job.candidates());
    }
    try {
      float[] scores = model.score(all);
      batches.incrementAndGet();
      batchedCandidates.addAndGet(size);
      int from = 0;
      for (Job job : batch) {
        float[] part = new float[job.candidates().size()];
        System.arraycopy(scores, from, part, 0, part.length);
        from += part.length;
        job.result().complete(part);
      }
    } catch (RuntimeException e) {
      LOG.error("scoring a batch of {} candidates failed", size, e);
      for (Job job : batch) {
        job.result().completeExceptionally(e);
      }
    } finally {
      room.release(size);
    }
  }

  /** Stops taking work; the workers finish what is queued, then end. */
  @Override
  public void close() {
    closed = true;
    for (Thread t : workers) {
      try {
        t.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
