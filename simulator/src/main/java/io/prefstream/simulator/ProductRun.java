package io.prefstream.simulator;

import io.prefstream.ingest.EventResult;
import io.prefstream.ingest.EventStatus;
import io.prefstream.ingest.FeedbackClient;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Runs the simulated product against an ingest through {@link FeedbackClient} and tallies the
 * answers: what was accepted, refused as expected (the malformed share), or not answered.
 */
public final class ProductRun {

  /**
   * What a run sent and got back.
   *
   * @param sent events sent (malformed ones included)
   * @param accepted answered accepted
   * @param duplicate answered duplicate
   * @param rejected answered rejected
   * @param malformedSent deliberately invalid events sent
   * @param validRejected valid events that were rejected anyway (should be 0)
   * @param malformedAccepted invalid events that were accepted anyway (should be 0)
   * @param unanswered events whose request failed after the client's retries
   */
  public record Report(
      long sent,
      long accepted,
      long duplicate,
      long rejected,
      long malformedSent,
      long validRejected,
      long malformedAccepted,
      long unanswered) {

    /** This run's counts and a later run's together. */
    public Report plus(Report later) {
      return new Report(
          sent + later.sent,
          accepted + later.accepted,
          duplicate + later.duplicate,
          rejected + later.rejected,
          malformedSent + later.malformedSent,
          validRejected + later.validRejected,
          malformedAccepted + later.malformedAccepted,
          unanswered + later.unanswered);
    }
  }

  /** Live counts of a run, for a progress display: read from any thread. */
  public static final class Progress {
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong duplicate = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong unanswered = new AtomicLong();
    private volatile boolean done;

    public long sent() {
      return sent.get();
    }

    public long accepted() {
      return accepted.get();
    }

    public long duplicate() {
      return duplicate.get();
    }

    public long rejected() {
      return rejected.get();
    }

    public long unanswered() {
      return unanswered.get();
    }

    /** True once every event was sent and answered. */
    public boolean done() {
      return done;
    }

    /** Counts an event sent, and its answer when it comes. */
    public void countSent(CompletableFuture<EventResult> answer) {
      sent.incrementAndGet();
      answer.whenComplete(this::answered);
    }

    /** Marks the run finished: every event sent and answered. */
    public void finish() {
      done = true;
    }

    private void answered(EventResult result, Throwable error) {
      if (error != null) {
        unanswered.incrementAndGet();
      } else if (result.status() == EventStatus.ACCEPTED) {
        accepted.incrementAndGet();
      } else if (result.status() == EventStatus.DUPLICATE) {
        duplicate.incrementAndGet();
      } else {
        rejected.incrementAndGet();
      }
    }
  }

  private ProductRun() {}

  /**
   * Sends the simulator's next {@code events} events (exactly: the last interaction may be cut
   * short) as fast as ingest takes them and waits for all answers.
   */
  public static Report run(Simulator simulator, FeedbackClient client, int events)
      throws InterruptedException {
    return run(simulator, client, events, 0, new Progress());
  }

  /**
   * Sends the simulator's next {@code events} events (exactly: the last interaction may be cut
   * short), at most {@code rate} events per second (0: unpaced), counting answers in {@code
   * progress} as they come, and waits for all answers.
   */
  public static Report run(
      Simulator simulator, FeedbackClient client, int events, double rate, Progress progress)
      throws InterruptedException {
    return run(simulator, client, events, rate, progress, () -> false);
  }

  /**
   * As above, ending early (after the interaction in hand) once {@code stop} is true; {@code
   * events} may be {@link Integer#MAX_VALUE} for a run that only {@code stop} ends. Memory stays
   * constant however long it runs: answers are tallied as they come, not kept.
   */
  public static Report run(
      Simulator simulator,
      FeedbackClient client,
      int events,
      double rate,
      Progress progress,
      BooleanSupplier stop)
      throws InterruptedException {
    Tally tally = new Tally();
    Deque<CompletableFuture<Void>> pending = new ArrayDeque<>();
    long sent = 0;
    long started = System.nanoTime();
    while (sent < events && !stop.getAsBoolean()) {
      for (SimulatedEvent event : simulator.nextInteraction()) {
        if (sent == events) {
          break; // exactly the number asked for: the rest of this interaction is never sent
        }
        sent++;
        boolean bad = event.isMalformed();
        CompletableFuture<EventResult> answer =
            bad ? client.sendJson(event.malformedJson()) : client.send(event.event());
        progress.countSent(answer);
        pending.add(answer.handle((result, error) -> tally.count(bad, result, error)));
      }
      while (!pending.isEmpty() && pending.peekFirst().isDone()) {
        pending.pollFirst();
      }
      if (rate > 0) {
        long due = started + (long) (sent / rate * 1e9);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
      }
    }
    for (CompletableFuture<Void> p : pending) {
      try {
        p.get(); // tallied when it completes; the tally never throws
      } catch (ExecutionException e) {
        throw new IllegalStateException("tallying an answer failed", e.getCause());
      }
    }
    progress.finish();
    return tally.report(sent);
  }

  /** Answers counted as they come, from the client's threads. */
  private static final class Tally {
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong duplicate = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong validRejected = new AtomicLong();
    private final AtomicLong malformedAccepted = new AtomicLong();
    private final AtomicLong unanswered = new AtomicLong();

    Void count(boolean bad, EventResult result, Throwable error) {
      if (bad) {
        malformed.incrementAndGet();
      }
      if (error != null) {
        unanswered.incrementAndGet();
        return null;
      }
      EventStatus status = result.status();
      if (status == EventStatus.ACCEPTED) {
        accepted.incrementAndGet();
      } else if (status == EventStatus.DUPLICATE) {
        duplicate.incrementAndGet();
      } else if (status == EventStatus.REJECTED) {
        rejected.incrementAndGet();
      }
      if (!bad && status == EventStatus.REJECTED) {
        validRejected.incrementAndGet();
      }
      if (bad && status.stored()) {
        malformedAccepted.incrementAndGet();
      }
      return null;
    }

    Report report(long sent) {
      return new Report(
          sent,
          accepted.get(),
          duplicate.get(),
          rejected.get(),
          malformed.get(),
          validRejected.get(),
          malformedAccepted.get(),
          unanswered.get());
    }
  }
}
