package io.prefstream.launcher;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.config.Settings;
import io.prefstream.schemas.Topics;
import io.prefstream.trainer.OnlineTrainer;
import io.prefstream.trainer.TrainerConfig;
import io.prefstream.trainer.TrainerMetrics;
import io.prefstream.trainer.TrainerOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The online trainer on a thread of this process, as {@code up} and {@code demo} run it: it reads
 * the local broker's pairs and keeps its checkpoints in the data directory, so a restart over the
 * same directory resumes from them.
 */
final class LocalTrainer implements AutoCloseable {

  private final OnlineTrainer trainer;
  private final TrainerConfig config;
  private final CompletableFuture<Map<String, OnlineTrainer.TenantStatus>> run;
  private volatile boolean closing;

  private LocalTrainer(
      OnlineTrainer trainer,
      TrainerConfig config,
      CompletableFuture<Map<String, OnlineTrainer.TenantStatus>> run) {
    this.trainer = trainer;
    this.config = config;
    this.run = run;
  }

  /**
   * Starts the trainer.
   *
   * @param settings {@code trainer.*}, {@code model.*} and {@code kafka.*} keys from the config
   *     file and environment; the broker and topic prefix are the local stack's, and the store is
   *     {@code DATA_DIR/checkpoints} unless {@code trainer.store} is set
   */
  static LocalTrainer start(String bootstrap, Topics topics, Settings settings, Path dataDir) {
    return start(bootstrap, topics, settings, dataDir, new SimpleMeterRegistry());
  }

  /** As above, with the trainer's meters in {@code registry} (e.g. the one ingest serves). */
  static LocalTrainer start(
      String bootstrap, Topics topics, Settings settings, Path dataDir, MeterRegistry registry) {
    return start(bootstrap, topics, settings, Settings.empty(), dataDir, registry);
  }

  /**
   * As above, with {@code forced} keys over the environment too (a command's explicit option, such
   * as the demo's {@code --model}).
   */
  static LocalTrainer start(
      String bootstrap,
      Topics topics,
      Settings settings,
      Settings forced,
      Path dataDir,
      MeterRegistry registry) {
    Map<String, String> local = new HashMap<>();
    local.put(TrainerOptions.STORE.key(), dataDir.resolve("checkpoints").toString());
    Settings merged =
        Settings.of(local)
            .overriddenBy(settings)
            .overriddenBy(Settings.fromEnv(System.getenv(), TrainerOptions.WITH_MODEL))
            .overriddenBy(forced)
            .overriddenBy(
                Settings.of(
                    Map.of(
                        TrainerOptions.BOOTSTRAP_SERVERS.key(),
                        bootstrap,
                        TrainerOptions.TOPIC_PREFIX.key(),
                        topics.prefix())));
    TrainerConfig config;
    try {
      config = TrainerConfig.from(merged);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
    TrainerMetrics metrics = new TrainerMetrics(registry);
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
    return new LocalTrainer(trainer, config, run);
  }

  TrainerConfig config() {
    return config;
  }

  Path store() {
    return config.store().toAbsolutePath();
  }

  /** Whether it is still training (not stopped, not failed). */
  boolean running() {
    return !run.isDone();
  }

  Map<String, OnlineTrainer.TenantStatus> status() {
    return trainer.status();
  }

  long checkpointsWritten() {
    return trainer.checkpointsWritten();
  }

  /** Reports (once) if the trainer ends while nobody asked it to. */
  void onUnexpectedEnd(Consumer<String> report) {
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
  boolean awaitTrained(String tenant, long pairs, Duration stall) throws InterruptedException {
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

  /** Stops after training what it has read and writing a last checkpoint; its final status. */
  Map<String, OnlineTrainer.TenantStatus> stop(Duration timeout) {
    closing = true;
    trainer.stop();
    try {
      return run.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted while stopping the trainer", e);
    } catch (Exception e) {
      throw new UserError("the trainer did not stop cleanly: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    if (!run.isDone()) {
      stop(Duration.ofMinutes(1));
    }
  }
}
