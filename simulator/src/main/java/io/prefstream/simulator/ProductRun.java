package io.prefstream.simulator;

import io.prefstream.ingest.EventResult;
import io.prefstream.ingest.EventStatus;
import io.prefstream.ingest.FeedbackClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

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
      long unanswered) {}

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
   * Sends the simulator's next {@code events} events (whole interactions) as fast as ingest takes
   * them and waits for all answers.
   */
  public static Report run(Simulator simulator, FeedbackClient client, int events)
      throws InterruptedException {
    return run(simulator, client, events, 0, new Progress());
  }

  /**
   * Sends the simulator's next {@code events} events (whole interactions), at most {@code rate}
   * events per second (0: unpaced), counting answers in {@code progress} as they come, and waits
   * for all answers.
   */
  public static Report run(
      Simulator simulator, FeedbackClient client, int events, double rate, Progress progress)
      throws InterruptedException {
    List<SimulatedEvent> sent = new ArrayList<>();
    List<CompletableFuture<EventResult>> answers = new ArrayList<>();
    long started = System.nanoTime();
    while (sent.size() < events) {
      for (SimulatedEvent event : simulator.nextInteraction()) {
        sent.add(event);
        CompletableFuture<EventResult> answer =
            event.isMalformed()
                ? client.sendJson(event.malformedJson())
                : client.send(event.event());
        progress.countSent(answer);
        answers.add(answer);
      }
      if (rate > 0) {
        long due = started + (long) (sent.size() / rate * 1e9);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
      }
    }
    long accepted = 0;
    long duplicate = 0;
    long rejected = 0;
    long malformed = 0;
    long validRejected = 0;
    long malformedAccepted = 0;
    long unanswered = 0;
    for (int i = 0; i < sent.size(); i++) {
      boolean bad = sent.get(i).isMalformed();
      malformed += bad ? 1 : 0;
      EventResult result;
      try {
        result = answers.get(i).get();
      } catch (ExecutionException e) {
        unanswered++;
        continue;
      }
      EventStatus status = result.status();
      accepted += status == EventStatus.ACCEPTED ? 1 : 0;
      duplicate += status == EventStatus.DUPLICATE ? 1 : 0;
      rejected += status == EventStatus.REJECTED ? 1 : 0;
      validRejected += !bad && status == EventStatus.REJECTED ? 1 : 0;
      malformedAccepted += bad && status.stored() ? 1 : 0;
    }
    progress.finish();
    return new Report(
        sent.size(),
        accepted,
        duplicate,
        rejected,
        malformed,
        validRejected,
        malformedAccepted,
        unanswered);
  }
}
