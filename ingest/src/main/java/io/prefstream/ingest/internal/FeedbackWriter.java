package io.prefstream.ingest.internal;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Sends records through one idempotent, acks=all producer and bounds the bytes awaiting the
 * broker's acknowledgement, so that a saturated producer turns into 429s instead of blocked threads
 * and a full heap.
 */
public final class FeedbackWriter {

  private final Producer<byte[], byte[]> producer;
  private final Semaphore budget;
  private final int maxPermits;

  public FeedbackWriter(Producer<byte[], byte[]> producer, long maxInFlightBytes) {
    this.producer = producer;
    this.maxPermits = (int) Math.min(Integer.MAX_VALUE, maxInFlightBytes);
    this.budget = new Semaphore(maxPermits);
  }

  /**
   * Reserves room for {@code bytes} of records, waiting at most {@code wait}, and returns the
   * reservation to give back with {@link #unreserve} once the broker has answered; a request larger
   * than the whole budget reserves all of it. Zero: saturated, answer 429.
   */
  public int tryReserve(long bytes, Duration wait) throws InterruptedException {
    int permits = (int) Math.max(1, Math.min(maxPermits, bytes));
    return budget.tryAcquire(permits, wait.toMillis(), TimeUnit.MILLISECONDS) ? permits : 0;
  }

  public void unreserve(int reservation) {
    if (reservation > 0) {
      budget.release(reservation);
    }
  }

  /**
   * Sends one record; the future completes when the broker answers. A send that fails before
   * reaching the producer's buffer (e.g. no metadata in time) fails the future.
   */
  public CompletableFuture<RecordMetadata> send(ProducerRecord<byte[], byte[]> record) {
    CompletableFuture<RecordMetadata> result = new CompletableFuture<>();
    try {
      producer.send(
          record,
          (metadata, error) -> {
            if (error == null) {
              result.complete(metadata);
            } else {
              result.completeExceptionally(error);
            }
          });
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
    }
    return result;
  }

  /** Bytes now awaiting acknowledgement. */
  public long inFlightBytes() {
    return maxPermits - budget.availablePermits();
  }
}
