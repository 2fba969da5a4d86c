package io.prefstream.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.Split;
import io.prefstream.config.Settings;
import io.prefstream.model.checkpoint.CheckpointId;
import io.prefstream.model.checkpoint.Checkpoints;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.model.checkpoint.Manifest;
import io.prefstream.schemas.Topics;
import io.prefstream.simulator.DirectPairs;
import io.prefstream.testing.KafkaFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The online trainer against a real broker: training from the stream, crashes, corruption. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class TrainerIT {

  @RegisterExtension static final KafkaFixture KAFKA = KafkaFixture.suite("trainer");
  @TempDir Path dir;

  /** Each test's topics of its own on the suite's broker. */
  private static Topics topics() {
    return KAFKA.freshTopics("trainer");
  }

  private static List<PreferencePair> pairs(String tenant, long seed, int n) {
    return DirectPairs.simulated(tenant, seed, n, 20);
  }

  private static void produce(Topics topics, List<PreferencePair> pairs) {
    KAFKA.send(topics.pairs(), pairs);
  }

  private Settings settings(Topics topics, Path store) {
    Map<String, String> s = new HashMap<>();
    s.put("trainer.bootstrap-servers", KAFKA.bootstrapServers());
    s.put("trainer.topic-prefix", topics.prefix());
    s.put("trainer.store", store.toString());
    s.put("trainer.batch-size", "64");
    s.put("trainer.max-batch-delay", "100ms");
    s.put("trainer.checkpoint-steps", "10");
    s.put("trainer.checkpoint-interval", "500ms");
    s.put("model.buckets", "4096");
    s.put("model.hidden", "32");
    return Settings.of(s);
  }

  private static long trainCount(List<PreferencePair> pairs, String tenant) {
    return pairs.stream()
        .filter(p -> p.getTenantId().equals(tenant) && p.getSplit() == Split.TRAIN)
        .count();
  }

  private static Manifest newest(Path store, String tenant) throws Exception {
    List<CheckpointId> ids = new DirectoryCheckpointStore(store).list(tenant, "reward");
    if (ids.isEmpty()) {
      return null;
    }
    return Manifest.fromJson(
        Files.readAllBytes(
            new DirectoryCheckpointStore(store)
                .fetch(ids.get(ids.size() - 1))
                .resolve("manifest.json")));
  }

  private static void await(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(100);
    }
  }

  private static List<CheckpointPublished> announced(Topics topics) {
    return checkpointRecords(topics).stream()
        .map(ConsumerRecord::value)
        .filter(v -> v != null) // tombstones withdraw pruned versions
        .toList();
  }

  /** Every record of prefstream.checkpoints, tombstones included. */
  private static List<ConsumerRecord<String, CheckpointPublished>> checkpointRecords(
      Topics topics) {
    return KAFKA.readToEnd(topics.checkpoints());
  }

  @Test
  void trainsEachTenantFromTheStreamAndAnnouncesVerifiedCheckpoints() throws Exception {
    Topics topics = topics();
    List<PreferencePair> all = new ArrayList<>(pairs("demo", 1, 1500));
    all.addAll(pairs("acme", 2, 700));
    produce(topics, all);
    Path store = dir.resolve("store");
    TrainerMetrics metrics = TrainerMetrics.inMemory();
    OnlineTrainer trainer =
        OnlineTrainer.kafka(TrainerConfig.from(settings(topics, store)), metrics);
    CompletableFuture<Map<String, OnlineTrainer.TenantStatus>> run = running(trainer);
    await(
        "both tenants trained all their pairs",
        Duration.ofMinutes(2),
        () -> {
          var s = trainer.status();
          return s.containsKey("demo")
              && s.containsKey("acme")
              && s.get("demo").pairsTrained() == trainCount(all, "demo")
              && s.get("acme").pairsTrained() == trainCount(all, "acme");
        });
    trainer.stop();
    run.get(1, TimeUnit.MINUTES);

    for (String tenant : List.of("demo", "acme")) {
      Manifest m = newest(store, tenant);
      assertThat(m.pairsSeen()).as(tenant).isEqualTo(trainCount(all, tenant));
      assertThat(m.metrics()).containsKeys("prequential_accuracy", "holdout_accuracy", "loss");
      assertThat(m.referenceHistogram().counts()).hasSize(10);
      assertThat(m.offsets()).hasSize(topics.pairs().partitions());
      Checkpoints.verify(new DirectoryCheckpointStore(store).fetch(m.id()), null);
    }
    assertThat(metrics.count("holdout_pairs", "demo"))
        .isEqualTo(
            all.stream()
                .filter(p -> p.getTenantId().equals("demo") && p.getSplit() == Split.HOLDOUT)
                .count());
    List<CheckpointPublished> published = announced(topics);
    assertThat(published).extracting(CheckpointPublished::getTenantId).contains("demo", "acme");
    CheckpointPublished last =
        published.stream()
            .filter(p -> p.getTenantId().equals("demo"))
            .reduce((a, b) -> b)
            .orElseThrow();
    Path lastDir = Path.of(java.net.URI.create(last.getUri()));
    assertThat(Checkpoints.verify(lastDir, last.getManifestSha256()).version())
        .isEqualTo(last.getVersion());
  }

  /**
   * The trainer's own entry point, as its container runs it: it trains and serves its meters and
   * health, and once closed it has written its last checkpoint and serves no more.
   */
  @Test
  void theTrainerProcessServesMetricsAndHealthAndStopsWithACheckpoint() throws Exception {
    Topics topics = topics();
    Path store = dir.resolve("main-store");
    List<PreferencePair> all = pairs("demo", 31, 200);
    produce(topics, all);
    java.util.concurrent.atomic.AtomicReference<String> ended =
        new java.util.concurrent.atomic.AtomicReference<>();
    io.prefstream.service.Service trainer =
        TrainerMain.start(
            settings(topics, store).overriddenBy(Settings.of(Map.of("trainer.port", "0"))),
            ended::set);
    java.net.URI uri = java.net.URI.create(trainer.ready().replaceAll(".* uri=", ""));
    var http = java.net.http.HttpClient.newHttpClient();
    java.util.function.Function<String, java.net.http.HttpResponse<String>> get =
        path -> {
          try {
            return http.send(
                java.net.http.HttpRequest.newBuilder(uri.resolve(path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        };
    try {
      assertThat(trainer.ready()).startsWith("store=" + store.toAbsolutePath());
      await(
          "pairs trained, as /healthz says",
          Duration.ofMinutes(2),
          () ->
              get.apply("/healthz")
                  .body()
                  .contains("\"pairs_trained\":" + trainCount(all, "demo")));
      assertThat(get.apply("/healthz").statusCode()).isEqualTo(200);
      assertThat(get.apply("/metrics").body())
          .contains("jvm_memory_used_bytes")
          .contains("prefstream_trainer_");
    } finally {
      trainer.close();
    }
    assertThat(ended.get()).isNull(); // a stop asked for is no unexpected end
    assertThat(newest(store, "demo").pairsSeen()).isEqualTo(trainCount(all, "demo"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> get.apply("/healthz"))
        .hasCauseInstanceOf(java.net.ConnectException.class);
  }

  @Test
  void anEncoderTrainsFromTheStreamAndResumesWithNoPairLostOrTrainedTwice() throws Exception {
    Topics topics = topics();
    Path store = dir.resolve("encoder-store");
    TrainerConfig config =
        TrainerConfig.from(
            settings(topics, store)
                .overriddenBy(
                    Settings.of(
                        Map.of(
                            "model.type", "encoder",
                            "model.encoder-layers", "1",
                            "model.max-tokens", "32",
                            "trainer.batch-size", "32",
                            "trainer.holdout-window", "50"))));
    List<PreferencePair> all = new ArrayList<>(pairs("demo", 21, 160));
    produce(topics, all);
    TrainerMetrics metrics = TrainerMetrics.inMemory();
    runUntilTrained(config, metrics, trainCount(all, "demo"), ENCODER_LIMIT);
    Manifest first = newest(store, "demo");
    assertThat(first.modelType()).isEqualTo("encoder");
    assertThat(first.pairsSeen()).isEqualTo(trainCount(all, "demo"));
    assertThat(first.metrics()).containsKeys("prequential_accuracy", "holdout_accuracy");
    Path checkpoint = new DirectoryCheckpointStore(store).fetch(first.id());
    assertThat(first.files())
        .extracting(Manifest.FileDigest::path)
        .contains("parameters.bin", "optimizer.bin", "config.json", "tokenizer.json");
    Checkpoints.verify(checkpoint, null);
    // Restarted over the same store with more pairs: it continues the lineage, each pair once.
    List<PreferencePair> more = pairs("demo", 22, 100);
    produce(topics, more);
    all.addAll(more);
    runUntilTrained(config, TrainerMetrics.inMemory(), trainCount(all, "demo"), ENCODER_LIMIT);
    Manifest last = newest(store, "demo");
    assertThat(last.version()).isGreaterThan(first.version());
    assertThat(last.pairsSeen()).isEqualTo(trainCount(all, "demo"));
    assertThat(last.steps()).isGreaterThan(first.steps());
    assertThat(lastProblems).isEmpty();
  }

  @Test
  void oldCheckpointsArePrunedAndWithdrawnUnlessARolloutNamesThem() throws Exception {
    Topics topics = topics();
    // The rollouts name v1 as champion, as if it still served (and v2 as its candidate).
    io.prefstream.avro.RolloutState state =
        io.prefstream.avro.RolloutState.newBuilder()
            .setTenantId("demo")
            .setModel("reward")
            .setChampionVersion(1L)
            .setCandidateVersion(2L)
            .setPhase(io.prefstream.avro.RolloutPhase.SHADOW)
            .setUpdatedAt(Instant.now())
            .build();
    KAFKA.send(topics.rollouts(), List.of(state));
    Path store = dir.resolve("pruned-store");
    TrainerMetrics metrics = TrainerMetrics.inMemory();
    TrainerConfig config =
        TrainerConfig.from(
            settings(topics, store)
                .overriddenBy(
                    Settings.of(
                        Map.of(
                            "trainer.keep-checkpoints", "2",
                            // full checkpoints: none is kept for a delta's chain (RetentionTest)
                            "trainer.full-checkpoint-every", "0"))));
    // Eight runs, each on new pairs: each ends with a checkpoint.
    List<PreferencePair> all = new ArrayList<>();
    for (int run = 0; run < 8; run++) {
      List<PreferencePair> more = pairs("demo", 50 + run, 150);
      produce(topics, more);
      all.addAll(more);
      runUntilTrained(config, metrics, trainCount(all, "demo"));
    }

    List<Long> kept =
        new DirectoryCheckpointStore(store)
            .list("demo", "reward").stream().map(CheckpointId::version).toList();
    Manifest newest = newest(store, "demo");
    assertThat(newest.version()).isGreaterThan(6);
    assertThat(kept).containsExactly(1L, 2L, newest.version() - 1, newest.version());
    assertThat(metrics.count("checkpoints_pruned", "demo")).isEqualTo(newest.version() - 4);
    // Every pruned version's announcement is withdrawn by a tombstone.
    List<String> tombstones =
        checkpointRecords(topics).stream()
            .filter(r -> r.value() == null)
            .map(ConsumerRecord::key)
            .toList();
    assertThat(tombstones)
        .contains("demo/reward/3")
        .doesNotContain("demo/reward/1", "demo/reward/2");
    assertThat(tombstones).hasSize((int) (newest.version() - 4));
  }

  @Test
  void oneTrainerPerTenantSharesTheStoreAndTrainsOnlyItsOwnTenantsPairs() throws Exception {
    Topics topics = topics();
    List<PreferencePair> all = new ArrayList<>(pairs("demo", 3, 900));
    all.addAll(pairs("acme", 4, 600));
    produce(topics, all);
    Path store = dir.resolve("per-tenant-store");
    for (String tenant : List.of("demo", "acme")) {
      TrainerConfig config =
          TrainerConfig.from(
              settings(topics, store)
                  .overriddenBy(Settings.of(Map.of("trainer.tenants", " " + tenant + " "))));
      TrainerMetrics metrics = TrainerMetrics.inMemory();
      OnlineTrainer trainer = OnlineTrainer.kafka(config, metrics);
      CompletableFuture<Map<String, OnlineTrainer.TenantStatus>> run = running(trainer);
      await(
          tenant + "'s trainer trained its pairs",
          Duration.ofMinutes(2),
          () -> {
            var s = trainer.status().get(tenant);
            return s != null && s.pairsTrained() == trainCount(all, tenant);
          });
      trainer.stop();
      assertThat(run.get(1, TimeUnit.MINUTES)).containsOnlyKeys(tenant);
      assertThat(newest(store, tenant).pairsSeen()).isEqualTo(trainCount(all, tenant));
    }
    // Restarted over the shared store, the demo trainer restores its own model and no other.
    TrainerConfig demo =
        TrainerConfig.from(
            settings(topics, store).overriddenBy(Settings.of(Map.of("trainer.tenants", "demo"))));
    OnlineTrainer restarted = OnlineTrainer.kafka(demo, TrainerMetrics.inMemory());
    try (restarted) {
      restarted.restore();
      assertThat(restarted.status()).containsOnlyKeys("demo");
    }
    assertThat(new DirectoryCheckpointStore(store).list("acme", "reward")).isNotEmpty();
  }

  @Test
  void aTrainerKilledMidRunResumesWithNoPairLostOrTrainedTwice() throws Exception {
    Topics topics = topics();
    List<PreferencePair> first = pairs("demo", 3, 4000);
    produce(topics, first);
    Path store = dir.resolve("store");
    Path config = dir.resolve("trainer.properties");
    StringBuilder props = new StringBuilder();
    settings(topics, store)
        .under("")
        .forEach((k, v) -> props.append(k).append('=').append(v).append('\n'));
    // This test is about resuming exactly once, not the gate: where the kill lands decides the
    // parent's holdout accuracy, and a restarted model a few holdout pairs behind it had every
    // checkpoint held back until the test timed out (0.679 against 0.727 on 165 pairs, once).
    props.append("trainer.gate-tolerance=1\n");
    Files.writeString(config, props);

    Process victim = startTrainerProcess(config, dir.resolve("first.log"));
    await("a first checkpoint", Duration.ofMinutes(2), () -> exists(store));
    victim.destroyForcibly(); // SIGKILL: no shutdown hook, no last checkpoint
    victim.waitFor(30, TimeUnit.SECONDS);
    Manifest atKill = newest(store, "demo");
    assertThat(atKill.pairsSeen()).isPositive().isLessThan(trainCount(first, "demo"));

    List<PreferencePair> second = pairs("demo", 4, 1500);
    produce(topics, second);
    long expected = trainCount(first, "demo") + trainCount(second, "demo");
    Process survivor = startTrainerProcess(config, dir.resolve("second.log"));
    try {
      try {
        await(
            "the restarted trainer checkpointed every pair",
            Duration.ofMinutes(3),
            () -> {
              try {
                Manifest m = newest(store, "demo");
                return m != null && m.pairsSeen() >= expected;
              } catch (Exception e) {
                return false;
              }
            });
      } catch (AssertionError e) {
        // What the two trainer processes said, so that a failure here can be diagnosed.
        throw new AssertionError(
            e.getMessage()
                + " (expected "
                + expected
                + " pairs; newest checkpoint "
                + newest(store, "demo").pairsSeen()
                + "; restarted trainer alive: "
                + survivor.isAlive()
                + ")\n--- first.log:\n"
                + tail(dir.resolve("first.log"))
                + "\n--- second.log:\n"
                + tail(dir.resolve("second.log")),
            e);
      }
      assertThat(newest(store, "demo").pairsSeen()).isEqualTo(expected);
      assertThat(Files.readString(dir.resolve("second.log")))
          .contains("Restored demo/reward/" + atKill.version());
      // The first checkpoint after the restart continues the lineage of the one restored.
      var store2 = new DirectoryCheckpointStore(store);
      Manifest next =
          Checkpoints.verify(
              store2.fetch(new CheckpointId("demo", "reward", atKill.version() + 1)), null);
      assertThat(next.parent()).isEqualTo(atKill.version());
    } finally {
      survivor.destroy();
      survivor.waitFor(60, TimeUnit.SECONDS);
    }
  }

  private static String tail(Path log) throws java.io.IOException {
    List<String> lines = Files.readAllLines(log);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
  }

  private static boolean exists(Path store) {
    try {
      Manifest m = newest(store, "demo");
      return m != null && m.pairsSeen() > 0;
    } catch (Exception e) {
      return false;
    }
  }

  /**
   * The trainer in a JVM of its own, without the Vector API module: so this test also runs the
   * scalar pooling that surefire's and failsafe's JVMs (which add the module) do not.
   */
  private static Process startTrainerProcess(Path config, Path log) throws Exception {
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp",
            System.getProperty("java.class.path"),
            TrainerMain.class.getName(),
            "--config",
            config.toString());
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  @Test
  void aCorruptNewestCheckpointIsSkippedWithAMessageAndAMetric() throws Exception {
    Topics topics = topics();
    List<PreferencePair> all = pairs("demo", 5, 1500);
    Path store = dir.resolve("store");
    TrainerConfig config = TrainerConfig.from(settings(topics, store));
    produce(topics, all.subList(0, 700));
    runUntilTrained(config, TrainerMetrics.inMemory(), trainCount(all.subList(0, 700), "demo"));
    produce(topics, all.subList(700, all.size()));
    runUntilTrained(config, TrainerMetrics.inMemory(), trainCount(all, "demo"));
    List<CheckpointId> versions = new DirectoryCheckpointStore(store).list("demo", "reward");
    assertThat(versions.size()).isGreaterThanOrEqualTo(2);
    CheckpointId newest = versions.get(versions.size() - 1);
    // The newest is a delta on the one before (its data in delta.bin) or a full one.
    Path newestDir = new DirectoryCheckpointStore(store).fetch(newest);
    String file =
        Files.exists(newestDir.resolve("parameters.bin")) ? "parameters.bin" : "delta.bin";
    Path params = newestDir.resolve(file);
    byte[] bytes = Files.readAllBytes(params);
    bytes[bytes.length / 2] ^= 0x5A;
    Files.write(params, bytes);

    TrainerMetrics metrics = TrainerMetrics.inMemory();
    runUntilTrained(config, metrics, trainCount(all, "demo"));
    assertThat(metrics.count("corrupt_checkpoints", "demo")).isEqualTo(1.0);
    assertThat(lastProblems)
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("checkpoint demo/reward/" + newest.version() + ": " + file + " has SHA-256");
    Manifest last = newest(store, "demo");
    assertThat(last.version()).isGreaterThan(newest.version());
    assertThat(last.parent()).isLessThan(newest.version()); // continued from the one before
    assertThat(last.pairsSeen()).isEqualTo(trainCount(all, "demo"));
  }

  private static List<String> lastProblems = List.of();

  /** Runs the trainer on another thread until stopped; its statuses at the end. */
  private static CompletableFuture<Map<String, OnlineTrainer.TenantStatus>> running(
      OnlineTrainer trainer) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (trainer) {
            return trainer.run();
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        });
  }

  private static void runUntilTrained(TrainerConfig config, TrainerMetrics metrics, long pairs)
      throws Exception {
    runUntilTrained(config, metrics, pairs, Duration.ofMinutes(2));
  }

  /**
   * An encoder's steps take a second or more on two cores, and libtorch's threads slow several
   * times over when other processes share them (45 s here for the first run, against 12 s alone): a
   * limit to wait, not a speed asserted.
   */
  private static final Duration ENCODER_LIMIT = Duration.ofMinutes(6);

  private static void runUntilTrained(
      TrainerConfig config, TrainerMetrics metrics, long pairs, Duration limit) throws Exception {
    OnlineTrainer trainer = OnlineTrainer.kafka(config, metrics);
    CompletableFuture<?> run = running(trainer);
    await(
        pairs + " pairs trained",
        limit,
        () -> {
          var s = trainer.status().get("demo");
          return s != null && s.pairsTrained() >= pairs || run.isDone();
        });
    trainer.stop();
    run.get(1, TimeUnit.MINUTES);
    lastProblems = trainer.restoreProblems();
  }

  @Test
  void theEndpointServesHealthAndMetricsAndAnswersUnknownPathsAsJson() throws Exception {
    Topics topics = topics();
    List<PreferencePair> pairs = pairs("demo", 31, 150);
    produce(topics, pairs);
    var registry = io.prefstream.http.PrometheusRegistries.create(); // as TrainerMain's
    try (TrainerService trainer =
            TrainerService.start(
                TrainerConfig.from(settings(topics, dir.resolve("endpoint-store"))),
                new TrainerMetrics(registry));
        TrainerEndpoint endpoint = TrainerEndpoint.start("127.0.0.1", 0, registry, trainer)) {
      assertThat(trainer.awaitTrained("demo", trainCount(pairs, "demo"), Duration.ofMinutes(2)))
          .isTrue();
      var http = java.net.http.HttpClient.newHttpClient();
      java.util.function.Function<String, java.net.http.HttpResponse<String>> get =
          path -> {
            try {
              return http.send(
                  java.net.http.HttpRequest.newBuilder(endpoint.uri().resolve(path)).build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          };

      var health = get.apply("/healthz");
      assertThat(health.statusCode()).isEqualTo(200);
      var body = io.prefstream.schemas.JsonForm.mapper().readTree(health.body());
      assertThat(body.get("status").asText()).isEqualTo("ok");
      assertThat(body.at("/tenants/demo/pairs_trained").asLong())
          .isEqualTo(trainCount(pairs, "demo"));
      var metrics = get.apply("/metrics");
      assertThat(metrics.headers().firstValue("Content-Type"))
          .hasValue(io.prefstream.http.PrometheusText.CONTENT_TYPE);
      assertThat(metrics.body()).contains("prefstream_trainer_", "jvm_memory_used_bytes");
      assertThat(io.prefstream.testing.Promtool.problems(metrics.body())).isEmpty();
      var missing = get.apply("/v1/nope");
      assertThat(missing.statusCode()).isEqualTo(404);
      assertThat(missing.body()).contains("\"error\":\"not_found\"");
    }
  }
}
