package io.prefstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.Split;
import io.prefstream.http.ApiKeys;
import io.prefstream.model.checkpoint.CheckpointId;
import io.prefstream.model.checkpoint.Checkpoints;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.model.checkpoint.Manifest;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import io.prefstream.testing.KafkaFixture;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The fault-tolerance suite: every service in its own process ({@link Services}), the simulated
 * product sending feedback throughout ({@link Traffic}), and one fault at a time. After each, the
 * reconciliation must hold exactly: every event ingest stored is in Kafka once, and nothing else
 * is; every pair is in Kafka once; the trainer's newest verified checkpoint has trained every TRAIN
 * pair exactly once; no client saw a 5xx other than the documented 503s the client retries. Each
 * fault's events, pairs and time to recover are printed and written to target/faults.json.
 */
@TestMethodOrder(OrderAnnotation.class)
@Timeout(value = 6, unit = java.util.concurrent.TimeUnit.MINUTES)
class FaultToleranceIT {

  private static final Duration SETTLE = Duration.ofSeconds(120);
  private static final Topics TOPICS = Topics.defaults();
  private static final double RATE = 120; // events per second
  private static Services services;
  private static Path root;

  /** Every event id ingest answered as stored, over all faults so far. */
  private static final Set<String> storedIds = ConcurrentHashMap.newKeySet();

  private static final AtomicLong rejectedTotal = new AtomicLong();
  private static final List<String> report = new ArrayList<>();
  private static long seed = 100;

  @BeforeAll
  static void startEveryService() throws Exception {
    root = Files.createTempDirectory("prefstream-faults");
    services =
        new Services(
            root,
            Map.of(
                // Interactions close 5 s after their last event; checkpoints come often, so a
                // fault lands between them and reconciliation settles in seconds.
                "pairs.session-gap", "5s",
                "pairs.allowed-lateness", "10s",
                "trainer.checkpoint-interval", "2s",
                // Reconciliation counts every pair: no checkpoint is held back by the gate.
                "trainer.gate-tolerance", "1"));
    services.start("kafka");
    services.start("ingest");
    services.start("pair-builder");
    services.start("trainer");
    services.start("scorer-1");
    services.start("scorer-2");
  }

  @AfterAll
  static void stopEverything() throws Exception {
    if (services != null) {
      services.close();
    }
    Path out = Path.of("target", "faults.json");
    Files.createDirectories(out.getParent());
    Files.writeString(out, "[" + String.join(",\n", report) + "]\n");
    report.forEach(System.out::println);
  }

  private static URI ingest() {
    return URI.create(services.ready("ingest", "uri"));
  }

  @Test
  @Order(1)
  void theTrainerKilledMidBatchResumesFromItsCheckpoint() throws Exception {
    long recovered;
    try (Traffic traffic = traffic(0)) {
      awaitTrained(1, Duration.ofSeconds(90));
      Thread.sleep(1500); // mid-run: between two checkpoints, training
      long at = System.nanoTime();
      services.kill("trainer");
      Thread.sleep(3000);
      services.start("trainer");
      recovered = System.nanoTime() - at;
      // What a Kubernetes probe and a Prometheus scrape of the restarted trainer see.
      await(
          "the restarted trainer's /healthz reports its resumed version",
          Duration.ofSeconds(30),
          () ->
              health("trainer").path("status").asText().equals("ok")
                  && health("trainer").at("/tenants/demo/version").asLong() > 0);
      Thread.sleep(6000);
      // Its counters appear with the first pairs it trains after the restart.
      await(
          "the restarted trainer's /metrics counts the pairs it trains",
          Duration.ofSeconds(60),
          () ->
              get(services.ready("trainer", "uri") + "/metrics")
                  .contains("prefstream_trainer_pairs_trained_total"));
      settleAndReconcile("trainer kill -9 mid-batch", traffic, recovered);
    }
  }

  @Test
  @Order(2)
  void theFlinkJobKilledMidCheckpointRestartsFromItsCheckpoint() throws Exception {
    try (Traffic traffic = traffic(0)) {
      Thread.sleep(8000);
      long at = System.nanoTime();
      services.kill("pair-builder"); // checkpoints every second: one is in flight
      Thread.sleep(2000);
      String line = services.start("pair-builder");
      long recovered = System.nanoTime() - at;
      assertThat(line).as("resumed from its retained checkpoint").doesNotContain("resumed=none");
      Thread.sleep(8000);
      settleAndReconcile("pair-builder kill -9 mid-checkpoint", traffic, recovered);
    }
  }

  @Test
  @Order(3)
  void aScorerKilledDuringASwapLeavesTheOtherServingAndComesBackVerified() throws Exception {
    try (Traffic traffic = traffic(0);
        Scoring scoring = new Scoring(List.of("scorer-1", "scorer-2"))) {
      awaitChampion("scorer-2");
      long before = newestAnnounced();
      await("a new checkpoint announced", Duration.ofSeconds(60), () -> newestAnnounced() > before);
      long at = System.nanoTime();
      services.kill("scorer-1"); // while the replicas load the new version
      Thread.sleep(3000);
      services.start("scorer-1");
      awaitChampion("scorer-1");
      long recovered = System.nanoTime() - at;
      Thread.sleep(3000);
      scoring.close();
      assertThat(scoring.serverErrors).as("5xx answers other than 503").isEmpty();
      assertThat(scoring.ok.get("scorer-2").get()).isPositive();
      settleAndReconcile("scorer kill -9 during a swap (two replicas)", traffic, recovered);
    }
  }

  @Test
  @Order(4)
  void theBrokerRestartedLosesNothingAccepted() throws Exception {
    try (Traffic traffic = traffic(0)) {
      Thread.sleep(5000);
      long at = System.nanoTime();
      long storedBefore = traffic.stored.size();
      services.stop("kafka");
      Thread.sleep(6000); // ingest answers 503; the client retries
      services.start("kafka");
      await(
          "ingest stores events again",
          Duration.ofSeconds(120),
          () -> traffic.stored.size() > storedBefore + 50);
      long recovered = System.nanoTime() - at;
      Thread.sleep(5000);
      settleAndReconcile("broker restart", traffic, recovered);
    }
  }

  @Test
  @Order(5)
  void aCorruptedCheckpointIsNeverServedAndTheTrainerSkipsIt() throws Exception {
    long at;
    long recovered;
    try (Traffic traffic = traffic(0)) {
      awaitTrained(1, Duration.ofSeconds(90));
      Thread.sleep(3000);
      at = System.nanoTime();
      services.stop("trainer"); // a last checkpoint, then corrupt it in the store
      Path store = services.dir("trainer").resolve("checkpoints");
      var ids = new DirectoryCheckpointStore(store).list("demo", "reward");
      CheckpointId newest = ids.get(ids.size() - 1);
      // Its parameters, as its manifest says: a delta's changed rows or a full parameters.bin.
      Path dir = new DirectoryCheckpointStore(store).fetch(newest);
      String file =
          Checkpoints.verify(dir, null).hasDelta() ? Manifest.DELTA_FILE : Manifest.PARAMETERS_FILE;
      Path params = dir.resolve(file);
      byte[] bytes = Files.readAllBytes(params);
      bytes[bytes.length / 2] ^= 0x5A;
      Files.write(params, bytes);
      // An operator pins the corrupted version: every replica must verify it, refuse it and
      // never serve it; a replica started now too.
      String key = "demo/reward/v" + newest.version();
      rollout("pin", Long.toString(newest.version()));
      services.stop("scorer-2");
      services.start("scorer-2");
      for (String scorer : List.of("scorer-1", "scorer-2")) {
        await(
            scorer + " refuses " + key,
            Duration.ofSeconds(60),
            () -> reward(scorer).path("refused").has("v" + newest.version()));
        JsonNode serving = reward(scorer).path("serving");
        assertThat(serving.path("champion").asLong()).as(scorer).isNotEqualTo(newest.version());
        assertThat(serving.path("candidate").asLong()).as(scorer).isNotEqualTo(newest.version());
      }
      rollout("unpin");
      services.start("trainer"); // skips the corrupted checkpoint, resumes from the one before
      recovered = System.nanoTime() - at;
      String skipped = "checkpoint demo/reward/" + newest.version() + ": " + file + " has SHA-256";
      await(
          "the restarted trainer says it passed over the corrupted checkpoint",
          Duration.ofSeconds(60),
          () -> services.output("trainer").contains(skipped));
      Thread.sleep(5000);
      settleAndReconcile("corrupted checkpoint file in the store", traffic, recovered);
    }
  }

  @Test
  @Order(6)
  void aFloodOfMalformedEventsBesideValidTrafficIsRejectedAndDeadLettered() throws Exception {
    Traffic valid = traffic(0);
    Traffic flood = traffic(0.6);
    Thread.sleep(10_000);
    settleAndReconcile(
        "malformed flood (bad-input) beside valid traffic", List.of(valid, flood), 0);
    assertThat(flood.rejected.get()).isEqualTo(flood.malformedSent.get()).isPositive();
  }

  // --- the product, scoring clients and reconciliation ---

  private static Traffic traffic(double malformedShare) {
    return new Traffic(ingest(), seed++, RATE, malformedShare).start();
  }

  /**
   * Waits until pairs stop arriving and the trainer has checkpointed every TRAIN pair, then checks
   * the ledger against Kafka and the checkpoint store.
   */
  private static void settleAndReconcile(String fault, Traffic traffic, long recoveredNanos)
      throws Exception {
    settleAndReconcile(fault, List.of(traffic), recoveredNanos);
  }

  private static void settleAndReconcile(String fault, List<Traffic> traffics, long recoveredNanos)
      throws Exception {
    for (Traffic t : traffics) {
      t.close();
    }
    reconcileEvents(traffics);
    // Pairs: exactly once in Kafka; wait for the stream to go quiet.
    List<PreferencePair> pairs = readAll(TOPICS.pairs(), services.bootstrap());
    long quietSince = System.nanoTime();
    long deadline = System.nanoTime() + SETTLE.toNanos();
    while (System.nanoTime() - quietSince < Duration.ofSeconds(12).toNanos()
        && System.nanoTime() < deadline) {
      Thread.sleep(2000);
      List<PreferencePair> now = readAll(TOPICS.pairs(), services.bootstrap());
      if (now.size() != pairs.size()) {
        pairs = now;
        quietSince = System.nanoTime();
      }
    }
    Set<String> pairIds = new HashSet<>();
    pairs.forEach(p -> pairIds.add(p.getPairId()));
    assertThat(pairIds).as("pairs in Kafka, each once").hasSize(pairs.size());
    long train = pairs.stream().filter(p -> p.getSplit() == Split.TRAIN).count();
    long holdout = pairs.size() - train;
    // The trainer: its newest verified checkpoint trained every TRAIN pair, each once.
    await(
        "the trainer checkpointed all " + train + " TRAIN pairs",
        SETTLE,
        () -> trainedInNewestCheckpoint() == train);
    long dlq =
        readAll(TOPICS.feedbackDlq(), services.bootstrap()).stream()
            .filter(d -> d.getSource().equals("ingest"))
            .count();
    assertThat(dlq).as("a dead letter for each rejected event").isEqualTo(rejectedTotal.get());
    String line =
        String.format(
            "{\"fault\": \"%s\", \"events_stored\": %d, \"events_rejected\": %d, \"pairs\": %d,"
                + " \"pairs_train\": %d, \"pairs_holdout\": %d, \"recovered_s\": %.1f}",
            fault,
            traffics.stream().mapToLong(t -> t.stored.size()).sum(),
            traffics.stream().mapToLong(t -> t.rejected.get()).sum(),
            pairs.size(),
            train,
            holdout,
            recoveredNanos / 1e9);
    report.add(line);
    System.out.println("fault suite: " + line);
  }

  private static void reconcileEvents(List<Traffic> traffics) throws Exception {
    for (Traffic traffic : traffics) {
      assertThat(traffic.problems).as("unanswered or wrongly answered events").isEmpty();
      assertThat(traffic.validRejected).isEmpty();
      storedIds.addAll(traffic.stored);
      rejectedTotal.addAndGet(traffic.rejected.get());
    }
    List<FeedbackEvent> inKafka = readAll(TOPICS.feedback(), services.bootstrap());
    Set<String> ids = new HashSet<>();
    inKafka.forEach(e -> ids.add(e.getEventId()));
    assertThat(ids).as("each stored event in Kafka exactly once").hasSize(inKafka.size());
    assertThat(ids).as("the events in Kafka are those ingest stored").isEqualTo(storedIds);
  }

  private static long trainedInNewestCheckpoint() {
    try {
      DirectoryCheckpointStore store =
          new DirectoryCheckpointStore(services.dir("trainer").resolve("checkpoints"));
      List<CheckpointId> ids = store.list("demo", "reward");
      for (int i = ids.size() - 1; i >= 0; i--) {
        try {
          return Checkpoints.verify(store.fetch(ids.get(i)), null).pairsSeen();
        } catch (Exception corrupt) {
          // the fault suite corrupts one: the trainer skips it too
        }
      }
      return 0;
    } catch (Exception e) {
      return -1;
    }
  }

  private static void rollout(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("rollout"));
    command.addAll(List.of(args));
    command.addAll(List.of("-b", services.bootstrap(), "--reason", "fault suite"));
    ChildProcess.Result r =
        ChildProcess.run(Duration.ofSeconds(60), command.toArray(String[]::new));
    assertThat(r.exitCode()).as(r.output()).isZero();
  }

  private static void awaitTrained(long pairs, Duration limit) throws Exception {
    await("the trainer's first checkpoint", limit, () -> trainedInNewestCheckpoint() >= pairs);
  }

  private static long newestAnnounced() {
    try {
      return readAll(TOPICS.checkpoints(), services.bootstrap()).stream()
          .mapToLong(c -> c.getVersion())
          .max()
          .orElse(0);
    } catch (Exception e) {
      return 0;
    }
  }

  /** A service's /healthz body (a scorer's, the trainer's), or an empty object if unreachable. */
  private static JsonNode health(String service) {
    try {
      return JsonForm.mapper().readTree(get(services.ready(service, "uri") + "/healthz"));
    } catch (Exception e) {
      return JsonForm.mapper().createObjectNode();
    }
  }

  /**
   * The demo tenant's reward model as a scorer's {@code /v1/models} shows it to the tenant's key
   * (versions served, versions refused), or an empty object.
   */
  private static JsonNode reward(String scorer) {
    try {
      String body =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(services.ready(scorer, "uri") + "/v1/models"))
                      .header("Authorization", "Bearer " + ApiKeys.DEMO_KEY)
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      for (JsonNode m : JsonForm.mapper().readTree(body).path("models")) {
        if (m.path("model").asText().equals("reward")) {
          return m;
        }
      }
    } catch (IOException e) {
      // not answering yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return JsonForm.mapper().createObjectNode();
  }

  /** A GET's body, or "" when the service does not answer. */
  private static String get(String uri) {
    try {
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create(uri)).build(), HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static void awaitChampion(String scorer) throws Exception {
    await(
        scorer + " serves a champion",
        Duration.ofSeconds(90),
        () -> reward(scorer).at("/serving/champion").asLong() > 0);
  }

  /** Scoring requests to each replica, round robin, counting answers by replica and status. */
  private static final class Scoring implements AutoCloseable {
    final Map<String, AtomicLong> ok = new ConcurrentHashMap<>();
    final List<String> serverErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean stopped;

    Scoring(List<String> replicas) {
      replicas.forEach(r -> ok.put(r, new AtomicLong()));
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      String body =
          "{\"prompt\": \"How do I sort a list?\", \"responses\": [\"Use sorted(xs).\","
              + " \"No idea.\"]}";
      thread =
          new Thread(
              () -> {
                int i = 0;
                while (!stopped) {
                  String replica = replicas.get(i++ % replicas.size());
                  try {
                    HttpResponse<String> r =
                        http.send(
                            HttpRequest.newBuilder(
                                    URI.create(services.ready(replica, "uri") + "/v1/score"))
                                .header("Authorization", "Bearer " + ApiKeys.DEMO_KEY)
                                .header("Content-Type", "application/json")
                                .timeout(Duration.ofSeconds(10))
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                      ok.get(replica).incrementAndGet();
                    } else if (r.statusCode() >= 500 && r.statusCode() != 503) {
                      serverErrors.add(replica + " " + r.statusCode() + " " + r.body());
                    }
                    Thread.sleep(20);
                  } catch (InterruptedException e) {
                    return;
                  } catch (Exception e) {
                    // a killed replica refuses connections: no answer, not a 5xx
                  }
                }
              },
              "scoring");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() throws InterruptedException {
      stopped = true;
      thread.join(15_000);
    }
  }

  private static void await(String what, Duration limit, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(250);
    }
  }

  /** Every committed record of a topic but tombstones, read by a fresh client to its end now. */
  static <V extends SpecificRecord> List<V> readAll(Topic<V> topic, String bootstrap) {
    return KafkaFixture.readToEnd(bootstrap, topic).stream()
        .map(ConsumerRecord::value)
        .filter(v -> v != null)
        .toList();
  }
}
