package io.prefstream.ingest.internal;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the broker answers, probed every second with a cluster description and lowered at once
 * when a write is not acknowledged; while it is down, requests get a quick 503 instead of each
 * waiting for the acknowledgement timeout.
 */
public final class KafkaHealth implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaHealth.class);

  private final Admin admin;
  private final Duration interval;
  private final Duration probeTimeout;
  private volatile boolean running = true;
  private volatile String problem;

  public KafkaHealth(Admin admin, Duration interval, Duration probeTimeout) {
    this.admin = admin;
    this.interval = interval;
    this.probeTimeout = probeTimeout;
  }

  /** Null when the broker answered the last probe and no write failed since; else why not. */
  public String problem() {
    return problem;
  }

  /** A write was not acknowledged: treat Kafka as down until the next probe answers. */
  public void suspect(String why) {
    if (problem == null) {
      LOG.warn("ingest: Kafka suspected down: {}", why);
    }
    problem = why;
  }

  /** One probe now. */
  public void probe() {
    try {
      admin.describeCluster().nodes().get(probeTimeout.toMillis(), TimeUnit.MILLISECONDS);
      if (problem != null) {
        LOG.info("ingest: Kafka answers again");
      }
      problem = null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      if (problem == null) {
        LOG.warn("ingest: Kafka does not answer: {}", e.toString());
      }
      problem = "Kafka does not answer (" + e.getClass().getSimpleName() + ")";
    }
  }

  @Override
  public void run() {
    while (running) {
      probe();
      try {
        Thread.sleep(interval.toMillis());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  public void stop() {
    running = false;
  }
}
