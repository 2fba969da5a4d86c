package io.prefstream.trainer;

import io.prefstream.config.KafkaConnection;
import io.prefstream.service.ServiceException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The online trainer on a thread of its own, as every process runs it ({@link TrainerMain}, {@code
 * prefstream up} and {@code demo}): it trains until {@link #stop}, which trains what it has read
 * and writes a last checkpoint; a restart over the same store resumes from it.
 */
public final class TrainerService implements AutoCloseable {

  private final OnlineTrainer trainer;
  private final TrainerConfig config;
  private final CompletableFuture<Map<String, OnlineTrainer.TenantStatus>> run;
  private volatile boolean closing;

  private TrainerService(
      OnlineTrainer trainer,
      TrainerConfig config,
      CompletableFuture<Map<String, OnlineTrainer.TenantStatus>> run) {
    this.trainer = trainer;
    this.config = config;
    this.run = run;
  }

  /**
   * Starts training from Kafka with its meters in {@code metrics}.
   *
   * @throws ServiceException when the cluster does not take its client settings (naming the
   *     principal) or does not answer
   */
  public static TrainerService start(TrainerConfig config, TrainerMetrics metrics) {
    KafkaConnection.requireAtStart("the trainer", config.bootstrapServers(), config.kafka());
    OnlineTrainer trainer = OnlineTrainer.kafka(config, metrics);
    CompletableFuture<Map<String, OnlineTrainer.TenantStatus>> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return trainer.run();
              } catch (Exception e) {
                throw new IllegalStateException(e.getMessage(), e);
              } finally {
                trainer.close();
              }
            },
            command -> {
              Thread t = new Thread(command, "prefstream-trainer");
              t.setDaemon(true);
              t.start();
            });
    return new TrainerService(trainer, config, run);
  }

  public TrainerConfig config() {
    return config;
  }

  public Path store() {
    return config.store().toAbsolutePath();
  }

  /** Whether it is still training (not stopped, not failed). */
  public boolean running() {
    return !run.isDone();
  }

  public Map<String, OnlineTrainer.TenantStatus> status() {
    return trainer.status();
  }

  public long checkpointsWritten() {
    return trainer.checkpointsWritten();
  }

  /** Reports (once) if the trainer ends while nobody asked it to. */
  public void onUnexpectedEnd(Consumer<String> report) {
    run.whenComplete(
        (status, error) -> {
          if (!closing) {
            report.accept(
                "the trainer stopped"
                    + (error == null
                        ? ""
                        : ": "
                            + (error.getCause() == null ? error : error.getCause()).getMessage()));
          }
        });
  }

  /**
   * Waits until the trainer has trained {@code pairs} TRAIN pairs of {@code tenant}: false when it
   * stopped, or trained none for {@code stall} (a slow model on CPUs may take many minutes, but it
   * keeps going).
   */
  public boolean awaitTrained(String tenant, long pairs, Duration stall)
      throws InterruptedException {
    long last = -1;
    long lastProgress = System.nanoTime();
    while (true) {
      var s = trainer.status().get(tenant);
      long trained = s == null ? 0 : s.pairsTrained();
      if (trained >= pairs || pairs == 0) {
        return true;
      }
      if (run.isDone()) {
        return false;
      }
      if (trained != last) {
        last = trained;
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > stall.toNanos()) {
        return false;
      }
      Thread.sleep(5);
    }
  }

  /**
   * Stops after training what it has read and writing a last checkpoint; its final status.
   *
   * @throws ServiceException when it does not stop within {@code timeout} or ended with a failure
   */
  public Map<String, OnlineTrainer.TenantStatus> stop(Duration timeout) {
    closing = true;
    trainer.stop();
    try {
      return run.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ServiceException("interrupted while stopping the trainer", e);
    } catch (Exception e) {
      throw new ServiceException("the trainer did not stop cleanly: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    if (!run.isDone()) {
      stop(Duration.ofMinutes(1));
    }
  }
}
