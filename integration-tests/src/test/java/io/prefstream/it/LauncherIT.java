package io.prefstream.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.schemas.Examples;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topics;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The command line as separate processes against a broker that `prefstream up` runs. */
@Timeout(180)
class LauncherIT {

  private static final Duration LIMIT = Duration.ofSeconds(90);

  /** The demo's arguments, on free ports so suites can run beside anything. */
  private static String[] demo(String... options) {
    List<String> args = new java.util.ArrayList<>(List.of("demo"));
    args.addAll(List.of(options));
    args.addAll(List.of("--kafka-port", "0", "--scorer-port", "0", "--monitor-port", "0"));
    return args.toArray(String[]::new);
  }

  private static final Topics TOPICS = Topics.defaults();
  private static ChildProcess up;
  private static String bootstrap;
  private static String ingestUri;
  private static String ingestMetrics;
  private static final java.util.Map<String, String> metricsOf = new java.util.HashMap<>();
  private static List<FeedbackEvent> sent;

  @TempDir Path tmp;

  @BeforeAll
  static void startStackAndSendEvents() throws Exception {
    up =
        ChildProcess.start(
            "up",
            "--kafka-port",
            "0",
            "--ingest-port",
            "0",
            "--scorer-port",
            "0",
            "--monitor-port",
            "0");
    String ready = up.awaitLine("ready bootstrap=", LIMIT);
    bootstrap = ready.replaceAll(".*bootstrap=(\\S+).*", "$1");
    ingestUri = ready.replaceAll(".*ingest=(\\S+).*", "$1");
    ingestMetrics = ready.replaceAll(".*ingest\\.metrics=(\\S+).*", "$1");
    for (String service : List.of("scorer", "monitor")) {
      metricsOf.put(service, ready.replaceAll(".*" + service + "\\.metrics=(\\S+).*", "$1"));
    }
    sent = Examples.oneOfEachPayload("demo", "i-cli", Instant.parse("2026-11-23T10:00:00Z"));
    try (KafkaProducer<String, FeedbackEvent> producer =
        new KafkaProducer<>(
            producerProps(), new StringSerializer(), TOPICS.feedback().valueSerde())) {
      for (FeedbackEvent event : sent) {
        producer
            .send(
                new ProducerRecord<>(TOPICS.feedback().name(), TOPICS.feedback().key(event), event))
            .get(30, TimeUnit.SECONDS);
      }
    }
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(producerProps(), new StringSerializer(), new ByteArraySerializer())) {
      DeadLetter letter =
          DeadLetter.newBuilder()
              .setRaw(ByteBuffer.wrap(new byte[] {1, 2}))
              .setReason("test")
              .setSource("it")
              .setTime(Instant.parse("2026-11-23T10:00:00Z"))
              .build();
      String dlq = TOPICS.feedbackDlq().name();
      producer
          .send(new ProducerRecord<>(dlq, "garbage", "this is not avro at all".getBytes()))
          .get(30, TimeUnit.SECONDS);
      producer
          .send(
              new ProducerRecord<>(
                  dlq, "ok", TOPICS.feedbackDlq().valueSerde().serialize(dlq, letter)))
          .get(30, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void stopStack() throws Exception {
    if (up != null) {
      up.terminate(LIMIT);
      up.close();
    }
  }

  @Test
  void topicsListsPartitionsConfigsAndEndOffsetsFromAnotherProcess() throws Exception {
    ChildProcess.Result result = ChildProcess.run(LIMIT, "topics", "--json", "-b", bootstrap);

    assertThat(result.exitCode()).as(result.output()).isZero();
    JsonNode topics = JsonForm.mapper().readTree(result.lines().get(result.lines().size() - 1));
    assertThat(topics).hasSize(7);
    JsonNode feedback = topics.get(0);
    assertThat(feedback.get("topic").asText()).isEqualTo("prefstream.feedback");
    assertThat(feedback.get("partitions").asInt()).isEqualTo(3);
    long total = 0;
    for (JsonNode end : feedback.get("end_offsets")) {
      total += end.asLong();
    }
    assertThat(total).isEqualTo(sent.size());
    assertThat(topics.get(3).get("topic").asText()).isEqualTo("prefstream.checkpoints");
    assertThat(topics.get(3).get("cleanup_policy").asText()).isEqualTo("compact");
  }

  @Test
  void tailPrintsCommittedRecordsAsJsonLines() throws Exception {
    ChildProcess.Result result =
        ChildProcess.run(
            LIMIT, "tail", "feedback", "--from-beginning", "--max", "7", "-b", bootstrap);

    assertThat(result.exitCode()).as(result.output()).isZero();
    JsonForm<FeedbackEvent> form = JsonForm.of(FeedbackEvent.class);
    List<FeedbackEvent> printed =
        result.lines().stream().filter(l -> l.startsWith("{")).map(form::parse).toList();
    assertThat(printed).containsExactlyInAnyOrderElementsOf(sent);
  }

  @Test
  void upRunsThePairBuilderWhoseCommittedPairsTailShows() throws Exception {
    // Of the example interaction only r1 is exposed: the labeled pair is the one pair it states;
    // the choice and the ranking name responses that were never shown and wait for them.
    List<String> pairs = List.of();
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (pairs.isEmpty() && System.nanoTime() < deadline) {
      ChildProcess.Result result =
          ChildProcess.run(
              LIMIT, "tail", "pairs", "--from-beginning", "--until-end", "-b", bootstrap);
      assertThat(result.exitCode()).as(result.output()).isZero();
      pairs = result.lines().stream().filter(l -> l.startsWith("{")).toList();
      if (pairs.isEmpty()) {
        Thread.sleep(500);
      }
    }
    assertThat(pairs).hasSize(1);
    JsonNode pair = JsonForm.mapper().readTree(pairs.get(0));
    assertThat(pair.get("source").asText()).isEqualTo("LABELED_PAIR");
    assertThat(pair.get("tenant_id").asText()).isEqualTo("demo");
    assertThat(pair.get("weight").asDouble()).isCloseTo(0.9 * 0.95, within(1e-9));
    assertThat(pair.get("event_ids").get(0).asText()).isEqualTo("i-cli-e7");

    // The trainer took the pair (trained, or kept for evaluation if it is HOLDOUT): its meters
    // are with ingest's on its /metrics listener.
    String counter =
        pair.get("split").asText().equals("HOLDOUT")
            ? "prefstream_trainer_holdout_pairs_total{tenant=\"demo\"} 1.0"
            : "prefstream_trainer_pairs_trained_total{tenant=\"demo\"} 1.0";
    String metrics = "";
    while (!metrics.contains(counter) && System.nanoTime() < deadline) {
      metrics =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(java.net.URI.create(ingestMetrics)).build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString())
              .body();
      Thread.sleep(500);
    }
    assertThat(metrics).contains(counter);
    // Every /metrics of the stack passes Prometheus' own linter: ingest's (with the trainer's and
    // the pair builder's meters), the scorer's and the monitor's.
    assertThat(io.prefstream.testing.Promtool.problems(metrics)).as("ingest").isEmpty();
    for (String service : List.of("scorer", "monitor")) {
      String scraped =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(java.net.URI.create(metricsOf.get(service)))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(io.prefstream.testing.Promtool.problems(scraped)).as(service).isEmpty();
    }
  }

  @Test
  void tailReportsARecordItCannotDecodeAndGoesOn() throws Exception {
    ChildProcess.Result result =
        ChildProcess.run(
            LIMIT,
            "tail",
            "prefstream.feedback.dlq",
            "--from-beginning",
            "--until-end",
            "--with-metadata",
            "-b",
            bootstrap);

    assertThat(result.exitCode()).as(result.output()).isZero();
    assertThat(result.output())
        .contains("skipped prefstream.feedback.dlq-0@0: Cannot deserialize DeadLetter")
        .contains("not Avro single-object encoding");
    JsonNode line =
        JsonForm.mapper()
            .readTree(
                result.lines().stream().filter(l -> l.startsWith("{")).findFirst().orElseThrow());
    assertThat(line.get("offset").asLong()).isEqualTo(1);
    assertThat(line.get("key").asText()).isEqualTo("ok");
    assertThat(line.get("value").get("reason").asText()).isEqualTo("test");
  }

  @Test
  void reportsAnUnreachableBrokerNamingItsAddress() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }

    ChildProcess.Result result =
        ChildProcess.run(
            LIMIT, "topics", "--bootstrap", "localhost:" + closedPort, "--timeout", "3");

    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.output())
        .contains("prefstream: Cannot reach Kafka at localhost:" + closedPort + " within 3 s")
        .doesNotContain("Exception");
  }

  @Test
  void rejectsBadArgumentsWithUsage() throws Exception {
    ChildProcess.Result missing = ChildProcess.run(LIMIT, "tail");
    ChildProcess.Result unknown = ChildProcess.run(LIMIT, "tail", "nosuch", "-b", bootstrap);

    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.output()).contains("Missing required parameter: 'TOPIC'").contains("Usage:");
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(unknown.output()).contains("Unknown topic 'nosuch'");
  }

  @Test
  void upStopsCleanlyOnSigtermAndRemovesItsTemporaryData() throws Exception {
    try (ChildProcess another =
        ChildProcess.start(
            "up",
            "--kafka-port",
            "0",
            "--ingest-port",
            "0",
            "--scorer-port",
            "0",
            "--monitor-port",
            "0",
            "--topic-prefix",
            "other")) {
      String dataLine = another.awaitLine("data in ", LIMIT);
      Path dataDir = Path.of(dataLine.replaceAll(".*data in (\\S+).*", "$1"));
      another.awaitLine("ready bootstrap=", LIMIT);
      assertThat(Files.isDirectory(dataDir)).isTrue();

      another.terminate(LIMIT);

      assertThat(another.output()).contains("prefstream: stopping");
      assertThat(Files.exists(dataDir)).isFalse();
    }
  }

  @Test
  void demoSendsSimulatedFeedbackThroughIngestAndLosesNothing() throws Exception {
    Path summary = tmp.resolve("summary.json");

    ChildProcess.Result result =
        ChildProcess.run(LIMIT, demo("--events", "3000", "--summary", summary.toString()));

    assertThat(result.exitCode()).as(result.output()).isZero();
    JsonNode last = JsonForm.mapper().readTree(result.lines().get(result.lines().size() - 1));
    JsonNode written = JsonForm.mapper().readTree(summary.toFile());
    assertThat(written).isEqualTo(last);
    JsonNode events = written.get("events");
    assertThat(events.get("accepted").asInt()).isGreaterThan(2500);
    assertThat(events.get("rejected").asInt()).isEqualTo(events.get("malformed_sent").asInt());
    assertThat(events.get("duplicate").asInt()).isEqualTo(100);
    assertThat(written.get("dead_letters").asInt()).isEqualTo(events.get("rejected").asInt());
    assertThat(written.at("/kafka/distinct_event_ids").asInt())
        .isEqualTo(events.get("accepted").asInt());
    assertThat(written.at("/kafka/feedback_records").asInt())
        .isEqualTo(events.get("accepted").asInt());
    assertThat(written.get("lost").get("events").asInt()).isZero();
    JsonNode pairs = written.get("pairs");
    assertThat(pairs.get("total").asInt()).isGreaterThan(300);
    assertThat(pairs.get("by_source").fieldNames())
        .toIterable()
        .contains("labeled_pair", "pairwise_choice", "ranking", "rating", "implicit");
    assertThat(written.at("/dead_letters_by_source/ingest").asInt())
        .isEqualTo(events.get("rejected").asInt());
    // The trainer trained every TRAIN pair, exactly. (A few hundred pairs are too few for an
    // accuracy floor here; LearnerTest holds the learner to one.)
    assertThat(pairs.get("trained").asInt())
        .isEqualTo(pairs.get("total").asInt() - pairs.get("holdout").asInt());
    assertThat(written.at("/lost/pairs").asInt()).isZero();
    assertThat(written.get("checkpoints").asInt()).isPositive();
    // The scorer promoted the first checkpoint and served best-of-N over HTTP.
    assertThat(written.at("/rollouts/promoted").asInt()).isPositive();
    assertThat(written.at("/rollouts/champion").asInt()).isPositive();
    assertThat(written.at("/serving/best_of_n_requests").asInt()).isEqualTo(50);
    assertThat(written.at("/serving/best_of_n_truly_best").asDouble()).isBetween(0.0, 1.0);
    assertThat(written.get("drift_alerts").isArray()).isTrue(); // the monitor ran beside

    assertThat(written.at("/accuracy/prequential").asDouble()).isBetween(0.0, 1.0);
    assertThat(written.at("/accuracy/true_preference").asDouble()).isBetween(0.0, 1.0);
    assertThat(written.get("model").asText()).isEqualTo("ngram-mlp");
  }

  @Test
  void theBadInputScenarioIsAnsweredWith4xxAndDeadLettersAndNoServerError() throws Exception {
    ChildProcess.Result result =
        ChildProcess.run(
            LIMIT, demo("--scenario", "bad-input", "--events", "1500", "--rate", "600"));

    assertThat(result.exitCode()).as(result.output()).isZero();
    JsonNode summary = JsonForm.mapper().readTree(result.lines().get(result.lines().size() - 1));
    assertThat(summary.get("scenario").asText()).isEqualTo("bad-input");
    JsonNode events = summary.get("events");
    // About 30% malformed beside the valid events: every one rejected, with its dead letter.
    assertThat(events.get("malformed_sent").asDouble() / events.get("sent").asDouble())
        .isGreaterThan(0.15);
    assertThat(events.get("rejected").asInt()).isEqualTo(events.get("malformed_sent").asInt());
    assertThat(summary.at("/dead_letters_by_source/ingest").asInt())
        .isGreaterThanOrEqualTo(events.get("rejected").asInt());
    JsonNode bad = summary.get("bad_input");
    assertThat(bad.get("garbage_requests").asInt()).isPositive();
    assertThat(bad.get("server_errors").asInt()).isZero();
    assertThat(bad.has("answered_400") && bad.has("answered_401") && bad.has("answered_415"))
        .as(bad.toString())
        .isTrue();
    assertThat(summary.at("/lost/events").asInt()).isZero();
  }

  @Test
  void thePoisonedCheckpointScenarioIsRolledBackByTheCanaryBeforeItServesAnyone() throws Exception {
    ChildProcess.Result result =
        ChildProcess.run(
            // The product may send up to 3 minutes past --events until the poison is judged.
            LIMIT.plus(Duration.ofMinutes(3)),
            // Checkpoints every 4 s: a champion serves early, and the trainer's checkpoints race
            // the poison, which must be republished as the newest until the controller takes it;
            // the product sends past --events until it is judged on fresh pairs.
            Map.of("PREFSTREAM_TRAINER_CHECKPOINT_INTERVAL", "4s"),
            demo("--scenario", "poisoned-checkpoint", "--events", "12000", "--rate", "600"));

    assertThat(result.exitCode()).as(result.output()).isZero();
    JsonNode summary = JsonForm.mapper().readTree(result.lines().get(result.lines().size() - 1));
    JsonNode poisoned = summary.get("poisoned_checkpoint");
    long version = poisoned.get("version").asLong();
    assertThat(version).as(poisoned.toString()).isPositive();
    assertThat(poisoned.get("outcome").asText()).as(poisoned.toString()).isEqualTo("rolled_back");
    assertThat(poisoned.get("reason").asText()).isNotBlank();
    // Judged on the first step's 1% canary: it never took more than 1% of traffic (the users
    // routed to the arm while it was judged may have been served by it).
    assertThat(poisoned.get("max_traffic_share").asDouble()).isLessThanOrEqualTo(0.01);
    assertThat(poisoned.get("served_best_of_n").asLong())
        .isLessThanOrEqualTo(
            Math.max(1, summary.at("/serving/live_best_of_n_requests").asLong() / 20));
    // It really prefers what users like least: its honest holdout accuracy is below chance.
    assertThat(poisoned.get("holdout_accuracy").asDouble()).isLessThan(0.5);
    assertThat(summary.at("/rollouts/champion").asLong()).isNotEqualTo(version);
    assertThat(summary.at("/rollouts/reasons").toString()).contains("v" + version + ": ");
    // The trainer went on beside it: its versions come after the published one, nothing lost.
    assertThat(summary.get("checkpoints").asLong()).isPositive();
    assertThat(summary.at("/lost/events").asInt()).isZero();
    assertThat(summary.at("/lost/pairs").asInt()).isZero();
  }

  @Test
  void theDemoRunsUntilCtrlCAndThenDrainsReconcilesAndSumsUp() throws Exception {
    try (ChildProcess running = ChildProcess.start(demo("--events", "0", "--rate", "400"))) {
      running.awaitLine("sending until Ctrl-C", Duration.ofSeconds(120));
      // A progress line at 15 s or later (a busy machine prints them a second or so late).
      java.util.regex.Pattern progress =
          java.util.regex.Pattern.compile("^\\[\\s*(\\d+)s\\] events");
      running.awaitLine(
          line -> {
            var m = progress.matcher(line);
            return m.find() && Integer.parseInt(m.group(1)) >= 15;
          },
          "of progress at 15 s or later",
          Duration.ofSeconds(60));
      running.interrupt();
      running.awaitLine("Ctrl-C: stopping the product", Duration.ofSeconds(10));
      assertThat(running.awaitExit(LIMIT)).as(running.output()).isZero();
      List<String> lines = running.output().lines().toList();
      JsonNode summary = JsonForm.mapper().readTree(lines.get(lines.size() - 1));
      // About 15 s at 400 events/s were sent, every accepted one is in Kafka, every pair trained.
      assertThat(summary.at("/events/accepted").asLong()).isGreaterThan(3000);
      assertThat(summary.at("/kafka/distinct_event_ids").asLong())
          .isEqualTo(summary.at("/events/accepted").asLong());
      assertThat(summary.at("/pairs/trained").asLong()).isPositive();
      assertThat(summary.at("/lost/events").asInt()).isZero();
      assertThat(summary.at("/lost/pairs").asInt()).isZero();
    }
  }

  @Test
  void theDemoReplaysRealPreferencePairsFromADataset() throws Exception {
    Path hh = Path.of("..", "..", "shared", "data", "hh-rlhf", "helpful-base", "test.jsonl.gz");
    if (!Files.exists(hh)) {
      hh = Path.of("..", "shared", "data", "hh-rlhf", "helpful-base", "test.jsonl.gz");
    }
    assertThat(hh).as("the shared HH-RLHF data beside the checkout").exists();

    ChildProcess.Result result =
        ChildProcess.run(LIMIT, demo("--dataset", hh.toString(), "--events", "800", "--rate", "0"));

    assertThat(result.exitCode()).as(result.output()).isZero();
    JsonNode summary = JsonForm.mapper().readTree(result.lines().get(result.lines().size() - 1));
    assertThat(summary.get("dataset").asText()).endsWith("test.jsonl.gz");
    assertThat(summary.at("/events/accepted").asInt()).isEqualTo(800);
    assertThat(summary.at("/pairs/by_source/labeled_pair").asInt()).isEqualTo(800);
    assertThat(summary.at("/pairs/trained").asInt() + summary.at("/pairs/holdout").asInt())
        .isEqualTo(800);
    assertThat(summary.at("/accuracy/true_preference").isNull()).isTrue();
    assertThat(summary.at("/serving/held_back_pairs_ranked").asInt()).isEqualTo(200);
    assertThat(summary.at("/accuracy/held_back_chosen_first").asDouble()).isBetween(0.0, 1.0);
    assertThat(summary.at("/lost/pairs").asInt()).isZero();
  }

  @Test
  void benchFreshnessMeasuresAcceptedToServedBesideAcceptedToPairs() throws Exception {
    ChildProcess.Result result =
        ChildProcess.run(
            Duration.ofSeconds(170),
            "bench",
            "freshness",
            "--warm-up",
            "10",
            "--seconds",
            "10",
            "--tail",
            "30",
            "--rate",
            "150",
            "--set",
            "pairs.session-gap=3s",
            "--set",
            "trainer.checkpoint-interval=3s",
            "--set",
            "rollout.steps=0.1,1",
            "--set",
            "rollout.min-pairs=10");

    assertThat(result.exitCode()).as(result.output()).isZero();
    // Its last stdout line; stderr, merged here, may log the stack's shutdown after it.
    List<String> json = result.lines().stream().filter(l -> l.startsWith("{\"bench\"")).toList();
    JsonNode figures = JsonForm.mapper().readTree(json.get(json.size() - 1));
    assertThat(figures.get("bench").asText()).isEqualTo("freshness");
    assertThat(figures.get("unit").asText()).isEqualTo("ms");
    assertThat(figures.get("baseline_name").asText()).isEqualTo("accepted_to_pairs_p50");
    assertThat(figures.get("baseline").asLong()).isPositive();
    assertThat(figures.get("events").asInt()).isPositive();
    // Served comes after the pair it was trained on: never before the baseline.
    assertThat(figures.get("value").asLong())
        .as(result.output())
        .isGreaterThanOrEqualTo(figures.get("baseline").asLong());
    assertThat(result.output()).contains("announced at", "served from");
  }

  @Test
  void anUnknownScenarioIsAUsageErrorThatNamesTheChoices() throws Exception {
    ChildProcess.Result result =
        ChildProcess.run(LIMIT, "demo", "--scenario", "chaos", "--kafka-port", "0");

    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.output()).contains("--scenario must be one of steady, preference-shift");
  }

  @Test
  void trainWritesACheckpointThatPublishAnnouncesAndListShows() throws Exception {
    Path data = tmp.resolve("pairs.jsonl");
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 400; i++) {
      String prompt = "How do I sort list " + i + " in Python?";
      lines.append(
          JsonForm.mapper()
                  .createObjectNode()
                  .put("prompt", prompt)
                  .put(
                      "chosen",
                      "Use sorted(xs):\n```python\nsorted(xs)\n```\nThat returns a new list " + i)
                  .put("rejected", "No idea " + i)
              + "\n");
    }
    Files.writeString(data, lines);
    Path out = tmp.resolve("offline");
    ChildProcess.Result trained =
        ChildProcess.run(
            LIMIT, "train", "--dataset", data.toString(), "--epochs", "2", "--out", out.toString());
    assertThat(trained.exitCode()).as(trained.output()).isZero();
    JsonNode figures = JsonForm.mapper().readTree(trained.lines().get(trained.lines().size() - 1));
    assertThat(figures.get("pairs").asInt()).isBetween(280, 360);
    assertThat(figures.get("epochs").asInt()).isEqualTo(2);
    assertThat(figures.get("holdout_accuracy").asDouble()).isGreaterThan(0.9);
    Path checkpoint = Path.of(figures.get("checkpoint").asText());
    assertThat(checkpoint.resolve("manifest.json")).isRegularFile();

    Path store = tmp.resolve("store");
    ChildProcess.Result published =
        ChildProcess.run(
            LIMIT,
            "checkpoint",
            "publish",
            checkpoint.toString(),
            "--store",
            store.toString(),
            "--tenant",
            "acme",
            "-b",
            bootstrap);
    assertThat(published.exitCode()).as(published.output()).isZero();
    assertThat(published.output()).contains("published acme/reward/1");
    ChildProcess.Result tail =
        ChildProcess.run(
            LIMIT, "tail", "checkpoints", "--from-beginning", "--until-end", "-b", bootstrap);
    assertThat(tail.output()).contains("\"tenant_id\":\"acme\"", "\"model_type\":\"ngram-mlp\"");

    // up's rollout controller makes the published checkpoint acme's champion; the CLI shows it
    // and overrides it by hand.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    ChildProcess.Result status;
    do {
      status = ChildProcess.run(LIMIT, "rollout", "status", "-b", bootstrap);
      assertThat(status.exitCode()).as(status.output()).isZero();
    } while (!status.output().contains("acme/reward: champion v1") && System.nanoTime() < deadline);
    assertThat(status.output()).contains("acme/reward: champion v1", "PROMOTE", "first checkpoint");
    ChildProcess.Result unknown =
        ChildProcess.run(
            LIMIT, "rollout", "pin", "3", "--tenant", "acme", "--reason", "x", "-b", bootstrap);
    assertThat(unknown.exitCode()).isNotZero();
    assertThat(unknown.output()).contains("acme/reward v3 has not been published (published: [1])");
    ChildProcess.Result pinned =
        ChildProcess.run(
            LIMIT,
            "rollout",
            "pin",
            "1",
            "--tenant",
            "acme",
            "--by",
            "it",
            "--reason",
            "hold for the release",
            "-b",
            bootstrap);
    assertThat(pinned.exitCode()).as(pinned.output()).isZero();
    assertThat(pinned.output()).contains("PIN v1 recorded by it (hold for the release)", "PINNED");
    assertThat(ChildProcess.run(LIMIT, "rollout", "status", "-b", bootstrap).output())
        .contains("acme/reward: champion v1, PINNED", "hold for the release");

    Files.write(store.resolve("acme/reward/000000000001/parameters.bin"), new byte[] {1, 2, 3});
    ChildProcess.Result listed =
        ChildProcess.run(LIMIT, "checkpoint", "list", "--store", store.toString());
    assertThat(listed.exitCode()).as(listed.output()).isZero();
    assertThat(listed.output()).contains("acme/reward/1", "CORRUPT", "parameters.bin has SHA-256");
    ChildProcess.Result refused =
        ChildProcess.run(
            LIMIT,
            "checkpoint",
            "publish",
            store.resolve("acme/reward/000000000001").toString(),
            "--store",
            store.toString(),
            "-b",
            bootstrap);
    assertThat(refused.exitCode()).isNotZero();
    assertThat(refused.output()).contains("refusing to publish", "parameters.bin has SHA-256");
  }

  @Test
  void upStartedAgainOnItsDataDirResumesThePairBuilderFromItsCheckpoint() throws Exception {
    Path dataDir = tmp.resolve("resume");
    int kafkaPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      kafkaPort = socket.getLocalPort();
    }
    String[] args = {
      "up",
      "--kafka-port",
      Integer.toString(kafkaPort),
      "--ingest-port",
      "0",
      "--scorer-port",
      "0",
      "--monitor-port",
      "0",
      "--data-dir",
      dataDir.toString(),
      "--topic-prefix",
      "resume"
    };
    String now = Instant.now().toString();
    String exposures =
        "{\"event_id\":\"x1\",\"tenant_id\":\"demo\",\"occurred_at\":\""
            + now
            + "\",\"interaction_id\":\"i-r\",\"exposure\":{\"response_id\":\"r1\","
            + "\"prompt\":\"p\",\"response\":\"first answer\"}}\n"
            + "{\"event_id\":\"x2\",\"tenant_id\":\"demo\",\"occurred_at\":\""
            + now
            + "\",\"interaction_id\":\"i-r\",\"exposure\":{\"response_id\":\"r2\","
            + "\"prompt\":\"p\",\"response\":\"second answer\"}}\n";
    String choice =
        "{\"event_id\":\"%s\",\"tenant_id\":\"demo\",\"occurred_at\":\""
            + now
            + "\",\"interaction_id\":\"i-r\",\"pairwise_choice\":{\"chosen_response_id\":"
            + "\"%s\",\"rejected_response_id\":\"%s\",\"annotator\":{\"id\":\"%s\"}}}\n";
    String bootstrapOfStack;
    try (ChildProcess first = ChildProcess.start(args)) {
      String ready = first.awaitLine("ready bootstrap=", LIMIT);
      bootstrapOfStack = ready.replaceAll(".*bootstrap=(\\S+).*", "$1");
      post(ready, exposures + String.format(choice, "c1", "r1", "r2", "ann-1"));
      assertThat(awaitPairs(bootstrapOfStack, "resume", 1)).hasSize(1);
      // Let a checkpoint pass that holds the exposures in the operator's state.
      Thread.sleep(2500);
      first.terminate(LIMIT);
    }
    try (ChildProcess second = ChildProcess.start(args)) {
      String ready = second.awaitLine("ready bootstrap=", LIMIT);
      assertThat(second.output()).contains("resumed from");
      // A choice that needs the exposures sent before the restart: they came back with the state.
      post(ready, String.format(choice, "c2", "r2", "r1", "ann-2"));
      List<String> pairs = awaitPairs(bootstrapOfStack, "resume", 2);
      assertThat(pairs).hasSize(2);
      assertThat(pairs).anyMatch(p -> p.contains("\"chosen\":\"second answer\""));
      second.terminate(LIMIT);
    }
  }

  /** NDJSON to the ingest of a `ready` line, every event accepted. */
  private static void post(String readyLine, String ndjson) throws Exception {
    String ingest = readyLine.replaceAll(".*ingest=(\\S+).*", "$1");
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(ingest + "/v1/events"))
                    .header("Authorization", "Bearer demo-key")
                    .header("Content-Type", "application/x-ndjson")
                    .POST(HttpRequest.BodyPublishers.ofString(ndjson))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.body()).doesNotContain("\"rejected\":1");
  }

  /**
   * The committed pairs under a topic prefix once there are at least {@code count}, or at the
   * limit.
   */
  private static List<String> awaitPairs(String bootstrap, String topicPrefix, int count)
      throws Exception {
    List<String> pairs = List.of();
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (pairs.size() < count && System.nanoTime() < deadline) {
      ChildProcess.Result result =
          ChildProcess.run(
              LIMIT,
              "tail",
              "pairs",
              "--topic-prefix",
              topicPrefix,
              "--from-beginning",
              "--until-end",
              "-b",
              bootstrap);
      assertThat(result.exitCode()).as(result.output()).isZero();
      pairs = result.lines().stream().filter(l -> l.startsWith("{")).toList();
      if (pairs.size() < count) {
        Thread.sleep(500);
      }
    }
    return pairs;
  }

  @Test
  void simulateSendsToTheIngestThatUpStarted() throws Exception {
    // Its own stack: the shared one's feedback topic holds exactly the events other tests count.
    try (ChildProcess stack =
        ChildProcess.start(
            "up",
            "--kafka-port",
            "0",
            "--ingest-port",
            "0",
            "--scorer-port",
            "0",
            "--monitor-port",
            "0",
            "--topic-prefix",
            "simulate")) {
      String ingest =
          stack.awaitLine("ready bootstrap=", LIMIT).replaceAll(".*ingest=(\\S+).*", "$1");

      ChildProcess.Result result =
          ChildProcess.run(LIMIT, "simulate", "--ingest", ingest, "--events", "500", "--seed", "9");

      assertThat(result.exitCode()).as(result.output()).isZero();
      JsonNode summary = JsonForm.mapper().readTree(result.lines().get(result.lines().size() - 1));
      assertThat(summary.get("sent").asInt()).as("exactly --events").isEqualTo(500);
      assertThat(summary.get("accepted").asInt())
          .isEqualTo(summary.get("sent").asInt() - summary.get("malformed_sent").asInt());
      assertThat(summary.get("rejected").asInt()).isEqualTo(summary.get("malformed_sent").asInt());
      assertThat(summary.get("valid_rejected").asInt()).isZero();
      assertThat(summary.get("unanswered").asInt()).isZero();
      stack.terminate(LIMIT);
    }
  }

  private static Properties producerProps() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    return p;
  }
}
