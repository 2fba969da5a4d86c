package io.prefstream.it;

import io.prefstream.http.ApiKeys;
import io.prefstream.ingest.EventResult;
import io.prefstream.ingest.EventStatus;
import io.prefstream.ingest.FeedbackClient;
import io.prefstream.simulator.SimulatedEvent;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The simulated product as a fault suite needs it: sends feedback through the Java client at a
 * steady rate on a thread of its own, with event time close to the wall clock, and keeps a ledger
 * of every answer: which event ids ingest stored (accepted, or duplicate of an earlier attempt),
 * which it rejected, and what went unanswered. The client retries 503s and connection errors long
 * enough to ride out a broker restart.
 */
final class Traffic implements AutoCloseable {

  final Set<String> stored = ConcurrentHashMap.newKeySet();
  final Set<String> validRejected = ConcurrentHashMap.newKeySet();
  final AtomicLong rejected = new AtomicLong();
  final AtomicLong malformedSent = new AtomicLong();
  final AtomicLong unanswered = new AtomicLong();
  final AtomicLong sent = new AtomicLong();
  final List<String> problems = new CopyOnWriteArrayList<>();

  private final FeedbackClient client;
  private final Simulator simulator;
  private final double rate;
  private final Thread thread;
  private volatile boolean stopped;

  /**
   * @param rate events per second
   * @param malformedShare share of extra, invalid events (the bad-input flood)
   */
  Traffic(URI ingest, long seed, double rate, double malformedShare) {
    this.client =
        FeedbackClient.builder(ingest, ApiKeys.DEMO_KEY)
            .optMaxRetries(30)
            .optBackoff(Duration.ofMillis(200), Duration.ofSeconds(2))
            .build();
    // One interaction (about six events) per 6 / rate seconds of event time: event time follows
    // the wall clock, so the pair builder's watermark moves as it would in a product.
    Duration step = Duration.ofMillis((long) (6_000 / rate));
    this.simulator =
        new Simulator(
            SimulatorConfig.builder(Instant.now())
                .optSeed(seed)
                .optStep(step)
                .optMalformedShare(malformedShare)
                .build());
    this.rate = rate;
    this.thread = new Thread(this::loop, "traffic-" + seed);
    thread.setDaemon(true);
  }

  Traffic start() {
    thread.start();
    return this;
  }

  private void loop() {
    long started = System.nanoTime();
    long count = 0;
    while (!stopped) {
      for (SimulatedEvent e : simulator.nextInteraction()) {
        count++;
        sent.incrementAndGet();
        if (e.isMalformed()) {
          malformedSent.incrementAndGet();
          client
              .sendJson(e.malformedJson())
              .whenComplete(
                  (r, error) -> {
                    if (error != null) {
                      unanswered.incrementAndGet();
                    } else if (r.status() == EventStatus.REJECTED) {
                      rejected.incrementAndGet();
                    } else {
                      problems.add("malformed event answered " + r.status());
                    }
                  });
        } else {
          String id = e.event().getEventId();
          client.send(e.event()).whenComplete((r, error) -> answered(id, r, error));
        }
      }
      long due = started + (long) (count / rate * 1e9);
      long wait = due - System.nanoTime();
      if (wait > 0) {
        try {
          Thread.sleep(wait / 1_000_000);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  private void answered(String id, EventResult r, Throwable error) {
    if (error != null) {
      unanswered.incrementAndGet();
      problems.add(id + " unanswered: " + error);
    } else if (r.status().stored()) {
      stored.add(id);
    } else {
      validRejected.add(id);
      problems.add(id + " rejected: " + r);
    }
  }

  /** Stops sending and waits for every answer. */
  @Override
  public void close() throws InterruptedException {
    stopped = true;
    thread.join(30_000);
    client.flush();
    client.close();
  }
}
