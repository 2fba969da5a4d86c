package io.prefstream.launcher.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.Exposure;
import io.prefstream.avro.PreferencePair;
import io.prefstream.config.Settings;
import io.prefstream.http.ApiKeys;
import io.prefstream.launcher.KafkaClients;
import io.prefstream.launcher.UserError;
import io.prefstream.local.LocalKafka;
import io.prefstream.model.Candidate;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topics;
import io.prefstream.scorer.Registry;
import io.prefstream.scorer.ScorerConfig;
import io.prefstream.scorer.ScorerServer;
import io.prefstream.scorer.ServedModel;
import io.prefstream.simulator.DirectPairs;
import io.prefstream.simulator.SimulatedEvent;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import io.prefstream.trainer.OnlineTrainer;
import io.prefstream.trainer.TenantModel;
import io.prefstream.trainer.TrainerConfig;
import io.prefstream.trainer.TrainerMetrics;
import io.prefstream.trainer.TrainingPair;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bench score}: {@code /v1/score} over loopback HTTP against the same model called in
 * process with the same batches, for 1 and 8 responses per request; then latency at half the
 * measured maximum throughput (an open loop, latency counted from each request's scheduled time).
 */
@Command(
    name = "score",
    mixinStandardHelpOptions = true,
    description =
        "Scorer /v1/score throughput and latency vs the model in process; last line: JSON figures.")
public final class BenchScoreCommand implements Runnable {

  @Option(
      names = "--seconds",
      defaultValue = "8",
      description = "Seconds each measurement runs. Default: ${DEFAULT-VALUE}.")
  int seconds;

  @Option(
      names = "--clients",
      defaultValue = "16",
      description = "Concurrent HTTP clients for the maximum. Default: ${DEFAULT-VALUE}.")
  int clients;

  @Option(
      names = "--set",
      description = "A scorer.*, rollout.* or model.* setting, KEY=VALUE (repeatable).")
  Map<String, String> settings = new HashMap<>();

  @Spec CommandSpec spec;

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    Topics topics = Topics.withPrefix("bench-score");
    Path dir;
    try {
      dir = Files.createTempDirectory("prefstream-bench-score");
    } catch (java.io.IOException e) {
      throw new UserError("bench score: " + e.getMessage(), e);
    }
    try (LocalKafka kafka = LocalKafka.builder().optPort(0).optTopics(topics).build().start()) {
      Map<String, String> s = new HashMap<>();
      s.put("trainer.bootstrap-servers", kafka.bootstrapServers());
      s.put("trainer.topic-prefix", topics.prefix());
      s.put("trainer.store", dir.resolve("store").toString());
      settings.forEach(
          (k, v) -> {
            if (k.startsWith("model.")) {
              s.put(k, v);
            }
          });
      TrainerConfig trainer = TrainerConfig.from(Settings.of(s));
      publish(kafka, topics, trainer, out);
      Map<String, String> sc = new HashMap<>(settings);
      sc.keySet().removeIf(k -> k.startsWith("model.") && !k.equals("model.device"));
      sc.put("scorer.bootstrap-servers", kafka.bootstrapServers());
      sc.put("scorer.topic-prefix", topics.prefix());
      sc.put("scorer.port", "0");
      sc.put(
          "scorer.quota.candidates-per-second", "0"); // the bench measures the model, unthrottled
      ScorerConfig config = ScorerConfig.from(Settings.of(sc));
      int threads =
          io.prefstream.model.Devices.useEngineThreads(
              config.engineThreads(), trainer.model().type());
      try (ScorerServer scorer =
          new ScorerServer(config, ApiKeys.parse("bench=bench-key", "bench")).start()) {
        String key = Registry.key("bench", trainer.modelName());
        awaitChampion(scorer, key);
        out.printf(
            "bench score: %s on %d cores, engine %d intra-op threads, %d scoring worker(s), max"
                + " batch %d, %d clients on loopback%n",
            trainer.model().type(),
            Runtime.getRuntime().availableProcessors(),
            threads,
            config.workers(),
            config.maxBatch(),
            clients);
        List<Request> requests = requests(400);
        BenchLine figures = null;
        for (int n : new int[] {1, 8}) {
          List<String> bodies = new ArrayList<>();
          for (Request r : requests) {
            bodies.add(r.body(n));
          }
          Run max = closedLoop(scorer, bodies, Duration.ofSeconds(seconds));
          if (max.perSecond() == 0) {
            throw new UserError(
                "bench score: no request of "
                    + n
                    + " response(s) was answered within the "
                    + seconds
                    + " s window ("
                    + max.failed()
                    + " failed): the model is slower than "
                    + clients
                    + " clients' requests need; give fewer --clients (an encoder on 2 cores: 2)"
                    + " or more --seconds");
          }
          double meanBatch =
              scorer.registry().get("prefstream.scorer.batch.mean.size").gauge().value();
          double inProcess =
              inProcess(scorer, key, requests, n, config, Duration.ofSeconds(seconds));
          Run half = openLoop(scorer, bodies, max.perSecond() / 2, Duration.ofSeconds(seconds));
          double httpCandidates = max.perSecond() * n;
          out.printf(
              "%d response(s)/request: max %,.1f requests/s (%,.0f candidates/s), p50 %.2f ms,"
                  + " p99 %.2f ms; in process %,.0f candidates/s (ratio %.3f); at 50%% (%,.1f"
                  + " req/s): p50 %.2f ms, p99 %.2f ms, %d failed%n",
              n,
              max.perSecond(),
              httpCandidates,
              max.p50(),
              max.p99(),
              inProcess,
              httpCandidates / inProcess,
              max.perSecond() / 2,
              half.p50(),
              half.p99(),
              max.failed() + half.failed());
          if (n == 8) {
            figures =
                BenchLine.of(
                    "score",
                    httpCandidates,
                    "candidates/s",
                    "the model in process with the same batches (candidates/s)",
                    inProcess);
            figures.withRounded("requests_per_s", max.perSecond());
            figures.with("responses_per_request", n);
            figures.with("p99_ms_at_half_max", Math.round(half.p99() * 100) / 100.0);
            figures.with("p50_ms_at_half_max", Math.round(half.p50() * 100) / 100.0);
            figures.with("mean_batch", Math.round(meanBatch * 10) / 10.0);
            figures.with("model", trainer.model().type());
          }
        }
        out.println(figures);
        out.flush();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted", e);
    } catch (UserError e) {
      throw e;
    } catch (Exception e) {
      throw new UserError("bench score failed: " + e.getMessage(), e);
    }
  }

  /** A model trained by the trainer's own path on simulated pairs, published as version 1. */
  private static void publish(
      LocalKafka kafka, Topics topics, TrainerConfig config, PrintWriter out) throws Exception {
    Simulator simulator =
        new Simulator(
            SimulatorConfig.builder(Instant.parse("2026-01-01T00:00:00Z"))
                .optTenant("bench")
                .build());
    // An encoder starts pretrained and trains some pairs a second on CPUs: a few hundred serve.
    int count = config.model().type().equals("encoder") ? 300 : 3000;
    List<PreferencePair> pairs = new DirectPairs(simulator, 10).next(count);
    try (TenantModel model = TenantModel.fresh("bench", config, TrainerMetrics.inMemory())) {
      long now = System.currentTimeMillis();
      for (PreferencePair p : pairs) {
        if (p.getSplit() == io.prefstream.avro.Split.HOLDOUT) {
          model.addHoldout(TrainingPair.of(p));
        } else {
          model.addTrain(TrainingPair.of(p), now);
        }
      }
      model.trainPending();
      var outcome =
          model.checkpoint(new DirectoryCheckpointStore(config.store()), List.of(), Map.of());
      CheckpointPublished published =
          OnlineTrainer.published(
              outcome.manifest(), outcome.manifestSha256(), outcome.uri().toString());
      try (KafkaProducer<byte[], byte[]> producer =
          new KafkaClients(kafka.bootstrapServers(), Duration.ofSeconds(30)).producer()) {
        producer
            .send(
                new ProducerRecord<>(
                    topics.checkpoints().name(),
                    topics
                        .checkpoints()
                        .key(published)
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    topics
                        .checkpoints()
                        .valueSerde()
                        .serialize(topics.checkpoints().name(), published)))
            .get();
      }
      out.printf(
          "trained %s on %d simulated pairs, published v%d%n",
          config.model().type(), pairs.size(), published.getVersion());
    }
  }

  private static void awaitChampion(ScorerServer scorer, String key) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      var route = scorer.serving().route(key);
      if (route != null && route.champion() != null) {
        return;
      }
      Thread.sleep(50);
    }
    throw new UserError("bench score: the checkpoint was not served within 120 s");
  }

  /** A prompt and responses of the simulated product. */
  private record Request(String prompt, List<String> responses) {
    String body(int n) {
      ObjectNode o = JsonForm.mapper().createObjectNode();
      o.put("prompt", prompt);
      var a = o.putArray("responses");
      for (int i = 0; i < n; i++) {
        a.add(responses.get(i % responses.size()));
      }
      return o.toString();
    }

    List<Candidate> candidates(int n) {
      List<Candidate> list = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        list.add(new Candidate(prompt, responses.get(i % responses.size())));
      }
      return list;
    }
  }

  private static List<Request> requests(int n) {
    Simulator simulator =
        new Simulator(
            SimulatorConfig.builder(Instant.parse("2026-02-01T00:00:00Z")).optSeed(9).build());
    List<Request> out = new ArrayList<>();
    while (out.size() < n) {
      String prompt = null;
      List<String> responses = new ArrayList<>();
      for (SimulatedEvent e : simulator.nextInteraction()) {
        if (!e.isMalformed() && e.event().getPayload() instanceof Exposure x) {
          prompt = x.getPrompt();
          if (!x.getResponse().isBlank()) {
            responses.add(x.getResponse());
          }
        }
      }
      if (prompt != null && !responses.isEmpty()) {
        out.add(new Request(prompt, responses));
      }
    }
    return out;
  }

  /** Requests answered per second and latencies in ms. */
  private record Run(double perSecond, double p50, double p99, long failed) {}

  private Run closedLoop(ScorerServer scorer, List<String> bodies, Duration time)
      throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(4)).build();
    URI uri = URI.create(scorer.uri() + "/v1/score");
    ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    AtomicLong failed = new AtomicLong();
    AtomicInteger next = new AtomicInteger();
    long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    long end = warmEnd + time.toNanos();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      Thread t =
          new Thread(
              () -> {
                while (true) {
                  long start = System.nanoTime();
                  if (start >= end) {
                    return;
                  }
                  String body = bodies.get(Math.floorMod(next.getAndIncrement(), bodies.size()));
                  boolean ok = send(http, uri, body);
                  long done = System.nanoTime();
                  // Counted by when it ends: requests of a slow model (an encoder on CPUs) take
                  // seconds, and the window's throughput is what ends in it.
                  if (done >= warmEnd && done <= end) {
                    if (ok) {
                      latencies.add(done - start);
                    } else {
                      failed.incrementAndGet();
                    }
                  }
                }
              });
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    return run(latencies, failed.get(), time);
  }

  private static Run openLoop(
      ScorerServer scorer, List<String> bodies, double perSecond, Duration time)
      throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(4)).build();
    URI uri = URI.create(scorer.uri() + "/v1/score");
    var pool = Executors.newFixedThreadPool(64);
    ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    AtomicLong failed = new AtomicLong();
    long interval = (long) (1e9 / perSecond);
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
    long count = (long) (perSecond * time.toSeconds());
    CountDownLatch done = new CountDownLatch((int) count);
    for (long i = 0; i < count; i++) {
      long scheduled = start + i * interval;
      long wait = scheduled - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      String body = bodies.get((int) (i % bodies.size()));
      pool.execute(
          () -> {
            boolean ok = send(http, uri, body);
            long latency = System.nanoTime() - scheduled; // from the schedule: no omission
            if (ok) {
              latencies.add(latency);
            } else {
              failed.incrementAndGet();
            }
            done.countDown();
          });
    }
    done.await(60, TimeUnit.SECONDS);
    pool.shutdownNow();
    return run(latencies, failed.get(), time);
  }

  private static boolean send(HttpClient http, URI uri, String body) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(uri)
                  .header("Authorization", "Bearer bench-key")
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (Exception e) {
      return false;
    }
  }

  private static Run run(ConcurrentLinkedQueue<Long> latencies, long failed, Duration time) {
    long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
    return new Run(
        sorted.length / (double) time.toSeconds(),
        Bench.percentile(sorted, 0.5) / 1e6,
        Bench.percentile(sorted, 0.99) / 1e6,
        failed);
  }

  /**
   * The served model in process: {@code workers} threads each scoring batches of the mean size the
   * HTTP run formed, from the same requests, for the same time.
   */
  private static double inProcess(
      ScorerServer scorer,
      String key,
      List<Request> requests,
      int n,
      ScorerConfig config,
      Duration time)
      throws Exception {
    double meanBatch = scorer.registry().get("prefstream.scorer.batch.mean.size").gauge().value();
    int batch = Math.max(n, (int) Math.round(meanBatch));
    List<List<Candidate>> batches = new ArrayList<>();
    List<Candidate> current = new ArrayList<>();
    for (Request r : requests) {
      current.addAll(r.candidates(n));
      if (current.size() >= batch) {
        batches.add(current);
        current = new ArrayList<>();
      }
    }
    ServedModel model = scorer.serving().lease(key, 1);
    try {
      AtomicLong scored = new AtomicLong();
      long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      long end = warmEnd + time.toNanos();
      List<Thread> threads = new ArrayList<>();
      for (int w = 0; w < config.workers(); w++) {
        int offset = w;
        Thread t =
            new Thread(
                () -> {
                  int i = offset;
                  while (System.nanoTime() < end) {
                    List<Candidate> b = batches.get(i++ % batches.size());
                    model.scoreNow(b);
                    if (System.nanoTime() >= warmEnd) {
                      scored.addAndGet(b.size());
                    }
                  }
                });
        t.start();
        threads.add(t);
      }
      for (Thread t : threads) {
        t.join();
      }
      return scored.get() / (double) time.toSeconds();
    } finally {
      model.release();
    }
  }
}
