package io.prefstream.scorer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.RolloutAction;
import io.prefstream.avro.RolloutDecision;
import io.prefstream.avro.RolloutPhase;
import io.prefstream.avro.RolloutState;
import io.prefstream.config.Settings;
import io.prefstream.http.ApiKeys;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topics;
import io.prefstream.scorer.rollout.RolloutCommands;
import io.prefstream.scorer.rollout.Rollouts;
import io.prefstream.testing.KafkaFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scorer and its rollout controller against a real broker, with real checkpoints trained on the
 * simulated product: promotion through every step, rollback of a label-flipped checkpoint, of NaN
 * and collapsed ones, refusal of a tampered one, manual pin and rollback, two replicas that route
 * alike, swaps under load, best-of-N and the HTTP errors.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ScorerIT {

  private static final String TENANT = "acme";
  private static final String KEY = "acme-key";
  private static final String MODEL = "reward";

  @RegisterExtension static final KafkaFixture KAFKA = KafkaFixture.suite("scorer");
  static List<PreferencePair> trainPairs;
  @TempDir Path dir;
  private final List<AutoCloseable> closing = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private Topics topics;
  private KafkaProducer<String, byte[]> producer;
  private DirectoryCheckpointStore store;
  private long holdoutSeed = 100;
  private final Map<Integer, Long> pairEnds = new ConcurrentHashMap<>();

  @BeforeAll
  static void simulateTrainingPairs() {
    trainPairs = TestCheckpoints.pairs(TENANT, 1, 1500, 1000);
  }

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  private void setUp() throws Exception {
    topics = KAFKA.freshTopics("scorer");
    producer = KAFKA.bytesProducer();
    closing.add(producer);
    store = new DirectoryCheckpointStore(dir.resolve("store"));
  }

  private ScorerServer scorer(Map<String, String> extra) throws Exception {
    Map<String, String> s = new HashMap<>();
    s.put("scorer.bootstrap-servers", KAFKA.bootstrapServers());
    s.put("scorer.topic-prefix", topics.prefix());
    s.put("scorer.port", "0");
    s.put("scorer.score-sample", "1");
    s.put("scorer.quota.candidates-per-second", "0"); // these tests load the model, not a quota
    s.put("rollout.min-pairs", "40");
    s.put("rollout.tolerance", "0.05");
    s.putAll(extra);
    ScorerServer server =
        new ScorerServer(
                ScorerConfig.from(Settings.of(s)),
                ApiKeys.parse(TENANT + "=" + KEY + ",other=other-key,*=ops-key", "test"))
            .start();
    closing.add(server);
    assertThat(server.awaitReady(Duration.ofSeconds(30))).isTrue();
    return server;
  }

  private TestCheckpoints.Kind publish(TestCheckpoints.Kind kind) throws Exception {
    TestCheckpoints.publish(store, producer, topics, TENANT, MODEL, trainPairs, kind);
    return kind;
  }

  /** Fresh pairs of the simulated product, TRAIN and HOLDOUT mixed (every fifth interaction). */
  private void produceFresh(int n) throws Exception {
    send(TestCheckpoints.pairs(TENANT, holdoutSeed++, n, 5));
  }

  private void send(List<PreferencePair> fresh) throws Exception {
    List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> sent =
        new ArrayList<>();
    for (PreferencePair p : fresh) {
      sent.add(
          producer.send(
              new ProducerRecord<>(
                  topics.pairs().name(),
                  topics.pairs().key(p),
                  topics.pairs().valueSerde().serialize(topics.pairs().name(), p))));
    }
    producer.flush();
    for (var f : sent) {
      var md = f.get();
      pairEnds.merge(md.partition(), md.offset() + 1, Math::max);
    }
  }

  private RolloutState await(ScorerServer s, Predicate<RolloutState> done, boolean feed)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    String key = Registry.key(TENANT, MODEL);
    while (System.nanoTime() < deadline) {
      RolloutState state = s.registryFollower().rollout(key);
      if (state != null && done.test(state)) {
        return state;
      }
      if (feed && state != null && state.getCandidateVersion() != null) {
        produceFresh(100);
      }
      Thread.sleep(feed ? 700 : 100);
    }
    throw new AssertionError(
        "rollout state not reached; last: " + s.registryFollower().rollout(key));
  }

  private static RolloutDecision last(RolloutState s) {
    return s.getHistory().get(s.getHistory().size() - 1);
  }

  private HttpResponse<String> post(ScorerServer s, String path, String key, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(s.uri() + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    return JsonForm.mapper().readTree(r.body());
  }

  private static String scoreBody(String user, String... responses) throws Exception {
    var o = JsonForm.mapper().createObjectNode();
    o.put("prompt", "How do I reverse a list in Python?");
    var a = o.putArray("responses");
    for (String r : responses) {
      a.add(r);
    }
    if (user != null) {
      o.put("user_id", user);
    }
    return JsonForm.mapper().writeValueAsString(o);
  }

  @Test
  void aGoodCheckpointIsPromotedThroughEveryStepAndAPoisonedOneRolledBackOnTheFirstStep()
      throws Exception {
    setUp();
    ScorerServer s = scorer(Map.of());
    publish(TestCheckpoints.Kind.GOOD);
    RolloutState first = await(s, st -> st.getChampionVersion() != null, false);
    assertThat(first.getChampionVersion()).isEqualTo(1L);
    assertThat(last(first).getReason()).contains("first checkpoint");

    publish(TestCheckpoints.Kind.GOOD);
    RolloutState promoted =
        await(s, st -> st.getChampionVersion() == 2L && st.getCandidateVersion() == null, true);
    List<RolloutAction> actions = new ArrayList<>();
    List<Double> weights = new ArrayList<>();
    for (RolloutDecision d : promoted.getHistory()) {
      if (d.getVersion() == 2) {
        actions.add(d.getAction());
        weights.add(d.getWeight());
      }
    }
    assertThat(actions)
        .containsExactly(
            RolloutAction.CANDIDATE,
            RolloutAction.STEP,
            RolloutAction.STEP,
            RolloutAction.STEP,
            RolloutAction.PROMOTE);
    assertThat(weights).containsExactly(0.01, 0.05, 0.25, 0.5, 1.0);
    RolloutDecision promotion = last(promoted);
    assertThat(promotion.getEvidence().getPairs()).isGreaterThanOrEqualTo(160);
    assertThat(promotion.getReason()).startsWith("non-inferior within the tolerance");
    // Judged on TRAIN and HOLDOUT pairs alike, and the decision says how many of each.
    assertThat(promotion.getEvidence().getOther().get("train_pairs")).isPositive();
    assertThat(promotion.getEvidence().getOther().get("holdout_pairs")).isPositive();
    // Served at once by the new champion.
    JsonNode served =
        json(post(s, "/v1/score", KEY, scoreBody("u1", "Use reversed(xs).", "No idea.")));
    assertThat(served.get("version").asLong()).isEqualTo(2);

    publish(TestCheckpoints.Kind.FLIPPED);
    RolloutState rolledBack = await(s, st -> last(st).getAction() == RolloutAction.ROLLBACK, true);
    RolloutDecision rollback = last(rolledBack);
    assertThat(rollback.getVersion()).isEqualTo(3);
    // Caught by accuracy or by the score distribution, whichever check the evidence reaches first.
    assertThat(rollback.getReason())
        .as(rollback.toString())
        .matches("significantly worse.*|sanity: normalised score distribution shifted.*");
    assertThat(rollback.getEvidence().getCandidateAccuracy())
        .isLessThan(rollback.getEvidence().getChampionAccuracy() - 0.1);
    // Rolled back on the first step: it never took more than its 1% canary.
    assertThat(
            rolledBack.getHistory().stream()
                .filter(d -> d.getVersion() == 3 && d.getAction() == RolloutAction.STEP))
        .isEmpty();
    assertThat(rolledBack.getChampionVersion()).isEqualTo(2L);
    assertThat(rolledBack.getPhase()).isEqualTo(RolloutPhase.IDLE);
    JsonNode models = json(get(s, "/v1/models", KEY));
    assertThat(models.at("/models/0/champion/version").asLong()).isEqualTo(2);
    assertThat(models.at("/models/0/serving/champion").asLong()).isEqualTo(2);
    // Another tenant's key sees nothing of acme's; an operator's sees every tenant, named;
    // liveness is open and names no tenant.
    JsonNode others = json(get(s, "/v1/models", "other-key"));
    assertThat(others.get("models")).isEmpty();
    assertThat(others.toString()).doesNotContain(TENANT);
    JsonNode everyone = json(get(s, "/v1/models", "ops-key"));
    assertThat(everyone.at("/models/0/tenant").asText()).isEqualTo(TENANT);
    assertThat(everyone.at("/models/0/champion/version").asLong()).isEqualTo(2);
    var health = get(s, "/healthz", null);
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).doesNotContain(TENANT);
    assertThat(json(health).at("/champions/serving").asInt()).isEqualTo(1);
    assertThat(get(s, "/metrics", "ops-key").statusCode()).isEqualTo(404);
    // An operator's key reads but cannot score as a tenant.
    var operatorScore = post(s, "/v1/score", "ops-key", scoreBody("u", "a", "b"));
    assertThat(operatorScore.statusCode()).isEqualTo(403);
    // Served scores were sampled to prefstream.scores (score-sample 1 here).
    List<io.prefstream.avro.ScoreRecord> records = scoreRecords();
    assertThat(records).isNotEmpty();
    assertThat(records)
        .anySatisfy(
            r -> {
              assertThat(r.getVersion()).isEqualTo(2);
              assertThat(r.getArm()).isEqualTo(io.prefstream.avro.Arm.CHAMPION);
              assertThat(r.getResponseChars()).isEqualTo("Use reversed(xs).".length());
              assertThat(r.getScript()).isEqualTo("LATIN");
            });
    assertThat(models.at("/models/0/history").size()).isGreaterThanOrEqualTo(7);
  }

  /**
   * The canary's evidence is every pair after the candidate decision's offsets, TRAIN pairs too,
   * and none before: 3,000 pairs labelled the other way round, committed before a label-flipped
   * candidate is announced, would make it look far better than its champion; counted, they would
   * step it. It is rolled back on TRAIN pairs that came after.
   */
  @Test
  void theCanaryJudgesOnlyPairsAfterTheCandidateDecisionTrainPairsIncluded() throws Exception {
    setUp();
    ScorerServer s = scorer(Map.of());
    publish(TestCheckpoints.Kind.GOOD);
    await(s, st -> st.getChampionVersion() != null, false);
    List<PreferencePair> inverted = TestCheckpoints.pairs(TENANT, 77, 3000, 1_000_000);
    for (PreferencePair p : inverted) {
      var chosen = p.getChosen();
      p.setChosen(p.getRejected());
      p.setRejected(chosen);
    }
    send(inverted);
    publish(TestCheckpoints.Kind.FLIPPED);
    RolloutState candidate = await(s, st -> st.getCandidateVersion() != null, false);
    long before =
        Rollouts.candidateOffsets(candidate).values().stream().mapToLong(Long::longValue).sum();
    assertThat(before)
        .as("the decision's offsets lie after the inverted pairs")
        .isEqualTo(inverted.size());
    int fresh = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    RolloutState state = candidate;
    while (last(state).getAction() != RolloutAction.ROLLBACK) {
      assertThat(System.nanoTime()).as("rolled back; last: %s", state).isLessThan(deadline);
      List<PreferencePair> train = TestCheckpoints.pairs(TENANT, holdoutSeed++, 50, 1_000_000);
      send(train);
      fresh += train.size();
      Thread.sleep(500);
      state = s.registryFollower().rollout(Registry.key(TENANT, MODEL));
    }
    RolloutDecision rollback = last(state);
    assertThat(rollback.getVersion()).isEqualTo(2);
    assertThat(rollback.getReason()).as(rollback.toString()).contains("TRAIN, 0 HOLDOUT");
    var evidence = rollback.getEvidence();
    assertThat(evidence.getOther().get("holdout_pairs")).isZero();
    assertThat(evidence.getOther().get("train_pairs")).isEqualTo((double) evidence.getPairs());
    assertThat(evidence.getPairs()).isPositive().isLessThanOrEqualTo(fresh);
    assertThat(evidence.getCandidateAccuracy()).isLessThan(evidence.getChampionAccuracy() - 0.1);
    assertThat(
            state.getHistory().stream()
                .filter(d -> d.getVersion() == 2 && d.getAction() == RolloutAction.STEP))
        .isEmpty();
  }

  /**
   * Serving lag: the champion's checkpoint records the positions it was trained through; the
   * tenant's pairs committed after them (not another tenant's) are counted, in /v1/models, in
   * /metrics and by the CLI's reading, and their age grows.
   */
  @Test
  void theServingLagCountsTheTenantsPairsAfterTheChampionsTrainedPositions() throws Exception {
    setUp();
    ScorerServer s = scorer(Map.of());
    send(TestCheckpoints.pairs(TENANT, 900, 30, 5));
    send(TestCheckpoints.pairs("other", 901, 20, 5));
    List<io.prefstream.model.checkpoint.Manifest.Offset> trained = new ArrayList<>();
    pairEnds.forEach(
        (p, o) ->
            trained.add(
                new io.prefstream.model.checkpoint.Manifest.Offset(topics.pairs().name(), p, o)));
    TestCheckpoints.publish(
        store,
        producer,
        topics,
        TENANT,
        MODEL,
        trainPairs,
        TestCheckpoints.Kind.GOOD,
        TestCheckpoints.SPEC,
        trained);
    await(s, st -> st.getChampionVersion() != null, false);
    List<PreferencePair> after = TestCheckpoints.pairs(TENANT, 902, 40, 5);
    send(after);
    send(TestCheckpoints.pairs("other", 903, 25, 5));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    JsonNode lag;
    do {
      Thread.sleep(200);
      lag = json(get(s, "/v1/models", KEY)).at("/models/0/champion/lag");
      assertThat(System.nanoTime())
          .as("lag of %d pairs: %s", after.size(), lag)
          .isLessThan(deadline);
    } while (lag.path("pairs").asLong(-1) != after.size());
    double seconds = lag.get("seconds").asDouble();
    assertThat(seconds).isGreaterThanOrEqualTo(0).isLessThan(30);
    Thread.sleep(1100);
    JsonNode later = json(get(s, "/v1/models", KEY)).at("/models/0/champion/lag");
    assertThat(later.get("seconds").asDouble()).isGreaterThan(seconds + 1);
    assertThat(metrics(s))
        .contains(
            "prefstream_scorer_serving_lag_pairs{arm=\"champion\",model=\"reward\",tenant=\"acme\"} "
                + after.size())
        .contains("prefstream_scorer_serving_lag_seconds{arm=\"champion\",model=\"reward\"");
    RolloutCommands commands =
        new RolloutCommands(Map.of("bootstrap.servers", KAFKA.bootstrapServers()), topics);
    var lags = commands.lags(commands.status());
    assertThat(lags.get(TENANT + "/" + MODEL + "/v1").pairs()).isEqualTo(after.size());
  }

  /**
   * Delta checkpoints from the real trainer: a delta is served (loaded onto the champion it
   * descends from, scoring exactly as the trainer's model); a delta whose chain holds an altered
   * link is refused, naming the link, and the champion keeps serving.
   */
  @Test
  void aDeltaIsServedAndOneWithACorruptedLinkIsRefusedWhileTheChampionServes() throws Exception {
    setUp();
    ScorerServer s = scorer(Map.of("rollout.min-pairs", "100000", "rollout.max-pairs", "100000"));
    io.prefstream.trainer.TrainerConfig config =
        io.prefstream.trainer.TrainerConfig.from(
            Settings.of(
                Map.of(
                    "model.buckets", "16384",
                    "model.hidden", "32",
                    "trainer.batch-size", "64",
                    "trainer.gate-min-holdout", "1000000")));
    List<io.prefstream.trainer.TrainingPair> train =
        trainPairs.stream().map(io.prefstream.trainer.TrainingPair::of).toList();
    List<io.prefstream.trainer.TenantModel.Outcome> written = new ArrayList<>();
    float[] trainerScores = null;
    List<io.prefstream.model.Candidate> probe =
        List.of(
            new io.prefstream.model.Candidate("How do I reverse a list?", "Use reversed(xs)."),
            new io.prefstream.model.Candidate("How do I reverse a list?", "No idea."));
    try (var model =
        io.prefstream.trainer.TenantModel.fresh(
            TENANT, config, io.prefstream.trainer.TrainerMetrics.inMemory())) {
      for (int v = 1; v <= 3; v++) {
        for (var p : train.subList((v - 1) * 300, v * 300)) {
          model.addTrain(p, System.currentTimeMillis());
        }
        model.trainPending();
        written.add(model.checkpoint(store, List.of(), Map.of()));
        if (v == 2) {
          trainerScores = model.learner().model().score(probe);
          publishWritten(written.get(1));
        } else if (v == 1) {
          publishWritten(written.get(0));
          await(s, st -> st.getChampionVersion() != null, false);
        }
      }
    }
    assertThat(written.get(1).manifest().hasDelta()).isTrue();
    assertThat(written.get(2).manifest().hasDelta()).isTrue();
    // v2, a delta, becomes the candidate and is loaded onto v1, the champion it descends from.
    await(s, st -> Long.valueOf(2).equals(st.getCandidateVersion()), false);
    ServedModel v2 = s.serving().lease(Registry.key(TENANT, MODEL), 2);
    try {
      float[] served = v2.scoreNow(probe);
      // As the trainer's model scored when it wrote v2, and as v2 composed whole from its chain.
      assertThat(served).containsExactly(trainerScores);
      assertThat(served).containsExactly(trainerScoresOf(written.get(1), probe));
    } finally {
      v2.release();
    }
    assertThat(metrics(s)).contains("path=\"onto_parent\"");
    RolloutCommands commands =
        new RolloutCommands(Map.of("bootstrap.servers", KAFKA.bootstrapServers()), topics);
    commands.rollback(TENANT, MODEL, "it", "making room for v3");
    await(s, st -> st.getCandidateVersion() == null, false);

    // v2's delta altered in the store: v3, a delta on v2, is refused naming the link.
    Path v2dir = store.fetch(new io.prefstream.model.checkpoint.CheckpointId(TENANT, MODEL, 2));
    byte[] delta = java.nio.file.Files.readAllBytes(v2dir.resolve("delta.bin"));
    delta[delta.length / 2] ^= 0x5a;
    java.nio.file.Files.write(v2dir.resolve("delta.bin"), delta);
    publishWritten(written.get(2));
    RolloutState refused = await(s, st -> Rollback.of(st, 3), false);
    assertThat(last(refused).getReason())
        .startsWith("refused: ")
        .contains("delta chain broken at v2", "delta.bin has SHA-256");
    JsonNode served = json(post(s, "/v1/score", KEY, scoreBody("u", "Use reversed(xs).")));
    assertThat(served.get("version").asLong()).isEqualTo(1);
  }

  /**
   * The candidate's arm follows the trainer: a checkpoint that descends from the candidate replaces
   * it on its arm once the version serving has had its dwell of fresh pairs, the step going on; a
   * checkpoint published by hand that does not descend from it waits; the arm steps on its
   * versions' evidence together and the version fixed at the last step is promoted.
   */
  @Test
  void theCandidatesArmFollowsTheTrainerAndIsPromotedOnItsVersionsEvidence() throws Exception {
    setUp();
    // A wide margin, so that models trained on 300 pairs more each are shown within it quickly;
    // small steps, so that the arm still follows when the next version comes (each 100 fresh pairs
    // may take a step).
    ScorerServer s =
        scorer(
            Map.of(
                "rollout.min-pairs",
                "100",
                "rollout.max-pairs",
                "100000",
                "rollout.tolerance",
                "0.2",
                "rollout.steps",
                "0.01,0.02,0.03,0.04,0.05,0.06,0.5,1"));
    io.prefstream.trainer.TrainerConfig config =
        io.prefstream.trainer.TrainerConfig.from(
            Settings.of(
                Map.of(
                    "model.buckets", "16384",
                    "model.hidden", "32",
                    "trainer.batch-size", "64",
                    "trainer.gate-min-holdout", "1000000")));
    List<io.prefstream.trainer.TrainingPair> train =
        trainPairs.stream().map(io.prefstream.trainer.TrainingPair::of).toList();
    String key = Registry.key(TENANT, MODEL);
    try (var model =
        io.prefstream.trainer.TenantModel.fresh(
            TENANT, config, io.prefstream.trainer.TrainerMetrics.inMemory())) {
      for (int v = 1; v <= 4; v++) {
        for (var p : train.subList((v - 1) * 300, v * 300)) {
          model.addTrain(p, System.currentTimeMillis());
        }
        model.trainPending();
        var outcome = model.checkpoint(store, List.of(), Map.of());
        publishWritten(outcome);
        long version = outcome.manifest().version();
        if (v == 1) {
          await(s, st -> st.getChampionVersion() != null, false);
        } else if (v == 2) {
          RolloutState first =
              await(s, st -> Long.valueOf(2).equals(st.getCandidateVersion()), false);
          assertThat(first.getCandidateWeight()).isEqualTo(0.01); // serving at once
          // v2 has its dwell of fresh pairs; a checkpoint published by hand (trained on its own,
          // no parent) does not descend from it and waits for the rollout.
          produceFresh(150);
          Thread.sleep(1000);
          publish(TestCheckpoints.Kind.GOOD);
          Thread.sleep(2000);
          assertThat(s.registryFollower().rollout(key).getCandidateVersion()).isEqualTo(2L);
        } else {
          // The trainer's next versions (after the hand-made v3) descend from the candidate.
          RolloutState followed =
              await(
                  s,
                  st ->
                      Long.valueOf(version).equals(st.getCandidateVersion())
                          || st.getCandidateVersion() == null,
                  true);
          assertThat(followed.getCandidateVersion()).as(followed.toString()).isNotNull();
          RolloutDecision d =
              followed.getHistory().stream()
                  .filter(
                      x -> x.getAction() == RolloutAction.CANDIDATE && x.getVersion() == version)
                  .findFirst()
                  .orElseThrow();
          assertThat(Rollouts.isFollow(d)).as(d.toString()).isTrue();
          assertThat(d.getReason()).startsWith("follows the trainer: v" + version);
          awaitRoute(s, key, version);
        }
      }
    }
    RolloutState promoted =
        await(s, st -> st.getCandidateVersion() == null && st.getChampionVersion() > 1, true);
    RolloutDecision promotion = last(promoted);
    assertThat(promotion.getAction()).as(promotion.toString()).isEqualTo(RolloutAction.PROMOTE);
    assertThat(Rollouts.lineage(promoted)).isEmpty();
    // Stepped on the arm's versions together: more pairs than the promoted version's own.
    assertThat(promotion.getEvidence().getOther().get("arm_pairs"))
        .isGreaterThan((double) promotion.getEvidence().getPairs());
    assertThat(promotion.getReason()).contains("the arm's versions together");
    // The hand-made checkpoint never took traffic: it did not descend from the candidate.
    assertThat(promoted.getHistory())
        .noneMatch(x -> x.getAction() == RolloutAction.CANDIDATE && x.getVersion() == 3);
  }

  /** Waits until the scorer's candidate arm serves {@code version}. */
  private static void awaitRoute(ScorerServer s, String key, long version) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      var route = s.serving().route(key);
      if (route != null && route.candidate() != null && route.candidate().version() == version) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the candidate arm never served v" + version);
  }

  /** The scores of a written checkpoint as loaded whole from its chain (the reference). */
  private static float[] trainerScoresOf(
      io.prefstream.trainer.TenantModel.Outcome o, List<io.prefstream.model.Candidate> probe)
      throws Exception {
    try (var model =
        io.prefstream.model.checkpoint.CheckpointLoader.load(
            io.prefstream.trainer.OnlineTrainer.published(
                o.manifest(), o.manifestSha256(), o.uri().toString()),
            ai.djl.Device.cpu())) {
      return model.score(probe);
    }
  }

  private void publishWritten(io.prefstream.trainer.TenantModel.Outcome o) throws Exception {
    assertThat(o.written()).as(o.refused()).isTrue();
    var c =
        io.prefstream.trainer.OnlineTrainer.published(
            o.manifest(), o.manifestSha256(), o.uri().toString());
    producer
        .send(
            new ProducerRecord<>(
                topics.checkpoints().name(),
                topics.checkpoints().key(c),
                topics.checkpoints().valueSerde().serialize(topics.checkpoints().name(), c)))
        .get();
  }

  @Test
  void nanAndCollapsedCheckpointsAreRolledBackBySanityAndATamperedOneIsRefused() throws Exception {
    setUp();
    ScorerServer s = scorer(Map.of());
    publish(TestCheckpoints.Kind.GOOD);
    await(s, st -> st.getChampionVersion() != null, false);

    publish(TestCheckpoints.Kind.NAN);
    RolloutState nan = await(s, st -> Rollback.of(st, 2), true);
    assertThat(last(nan).getReason()).startsWith("sanity: ").contains("not finite");

    publish(TestCheckpoints.Kind.COLLAPSED);
    RolloutState flat = await(s, st -> Rollback.of(st, 3), true);
    assertThat(last(flat).getReason()).startsWith("sanity: scores collapsed");

    publish(TestCheckpoints.Kind.TAMPERED);
    RolloutState tampered = await(s, st -> Rollback.of(st, 4), false);
    assertThat(last(tampered).getReason()).startsWith("refused: ").contains("SHA-256");
    assertThat(s.serving().refused()).containsKey(Registry.key(TENANT, MODEL) + "/v4");
    assertThat(metrics(s))
        .contains("prefstream_scorer_checkpoints_refused_total{reason=\"digest\"}");
    assertThat(tampered.getChampionVersion()).isEqualTo(1L);
    JsonNode served = json(post(s, "/v1/score", KEY, scoreBody("u", "Use reversed(xs).")));
    assertThat(served.get("version").asLong()).isEqualTo(1);
  }

  /** Whether the last decision rolled {@code version} back. */
  private static final class Rollback {
    static boolean of(RolloutState s, long version) {
      RolloutDecision d = last(s);
      return d.getAction() == RolloutAction.ROLLBACK && d.getVersion() == version;
    }
  }

  @Test
  void twoReplicasRouteAlikeOneControlsAndManualRollbackAndPinTakeEffect() throws Exception {
    setUp();
    Map<String, String> canary =
        Map.of(
            "rollout.steps", "0.5,1", "rollout.min-pairs", "100000", "rollout.max-pairs", "100000");
    ScorerServer a = scorer(canary);
    ScorerServer b = scorer(canary);
    publish(TestCheckpoints.Kind.GOOD);
    await(a, st -> st.getChampionVersion() != null, false);
    publish(TestCheckpoints.Kind.GOOD);
    await(a, st -> st.getCandidateVersion() != null, false);
    awaitServing(a, 2);
    awaitServing(b, 2);
    assertThat(a.controller().active() ^ b.controller().active())
        .as("exactly one active controller")
        .isTrue();
    int toCandidate = 0;
    for (int u = 0; u < 40; u++) {
      String body = scoreBody("user-" + u, "Use reversed(xs).", "Try xs[::-1].");
      JsonNode fromA = json(post(a, "/v1/score", KEY, body));
      JsonNode fromB = json(post(b, "/v1/score", KEY, body));
      assertThat(fromB.get("arm")).isEqualTo(fromA.get("arm"));
      assertThat(fromB.get("version")).isEqualTo(fromA.get("version"));
      assertThat(fromB.get("scores")).isEqualTo(fromA.get("scores"));
      toCandidate += fromA.get("arm").asText().equals("candidate") ? 1 : 0;
    }
    assertThat(toCandidate).isBetween(8, 32); // half of 40, give or take

    RolloutCommands commands =
        new RolloutCommands(Map.of("bootstrap.servers", KAFKA.bootstrapServers()), topics);
    commands.rollback(TENANT, MODEL, "alice", "canary looks off");
    RolloutState back = await(b, st -> st.getCandidateVersion() == null, false);
    assertThat(last(back).getActor()).isEqualTo("alice");
    assertThat(last(back).getReason()).isEqualTo("canary looks off");
    awaitVersion(a, "user-1", 1);
    awaitVersion(b, "user-1", 1);

    commands.pin(TENANT, MODEL, 2, "bob", "ship it by hand");
    RolloutState pinned = await(a, st -> st.getPhase() == RolloutPhase.PINNED, false);
    assertThat(pinned.getChampionVersion()).isEqualTo(2L);
    awaitVersion(a, "user-7", 2);
    awaitVersion(b, "user-7", 2);
    publish(TestCheckpoints.Kind.GOOD); // pinned: no rollout starts
    Thread.sleep(2000);
    assertThat(a.registryFollower().rollout(Registry.key(TENANT, MODEL)).getCandidateVersion())
        .isNull();
  }

  @Test
  void swapsUnderLoadFailNoRequestAndBestOfNIsOrderedAndErrorsNameTheirField() throws Exception {
    setUp();
    ScorerServer s = scorer(Map.of("rollout.controller", "0"));
    RolloutCommands commands =
        new RolloutCommands(Map.of("bootstrap.servers", KAFKA.bootstrapServers()), topics);
    publish(TestCheckpoints.Kind.GOOD);
    publish(TestCheckpoints.Kind.FLIPPED);
    awaitAnnounced(s, 2);
    commands.pin(TENANT, MODEL, 1, "test", "start");
    awaitVersion(s, "u", 1);

    AtomicBoolean run = new AtomicBoolean(true);
    AtomicInteger ok = new AtomicInteger();
    Map<Integer, Integer> failures = new ConcurrentHashMap<>();
    Map<Long, Integer> versions = new ConcurrentHashMap<>();
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      int client = c;
      Thread t =
          new Thread(
              () -> {
                int i = 0;
                while (run.get()) {
                  try {
                    var r =
                        post(
                            s,
                            "/v1/score",
                            KEY,
                            scoreBody("c" + client + "-" + i++, "A", "B b", "C c c"));
                    if (r.statusCode() == 200) {
                      ok.incrementAndGet();
                      versions.merge(json(r).get("version").asLong(), 1, Integer::sum);
                    } else {
                      failures.merge(r.statusCode(), 1, Integer::sum);
                    }
                  } catch (Exception e) {
                    failures.merge(-1, 1, Integer::sum);
                  }
                }
              });
      t.start();
      clients.add(t);
    }
    for (int swap = 0; swap < 4; swap++) {
      long version = swap % 2 == 0 ? 2 : 1;
      commands.pin(TENANT, MODEL, version, "test", "swap " + swap);
      awaitVersion(s, "probe", version);
      Thread.sleep(300);
    }
    run.set(false);
    for (Thread t : clients) {
      t.join();
    }
    assertThat(failures).as("failed requests by status").isEmpty();
    assertThat(ok.get()).isGreaterThan(20);
    assertThat(versions).containsKeys(1L, 2L);

    // Best-of-N: sorted by score, consistent with /v1/score.
    String body =
        scoreBody(
            "u",
            "No.",
            "Use `reversed(xs)` or `xs[::-1]`:\n\n```python\nxs[::-1]\n```",
            "Lists can be reversed.",
            "I don't know, maybe search for it?");
    JsonNode scores = json(post(s, "/v1/score", KEY, body)).get("scores");
    JsonNode ranked = json(post(s, "/v1/rank", KEY, body));
    double previous = Double.POSITIVE_INFINITY;
    for (JsonNode item : ranked.get("ranking")) {
      double score = item.get("score").asDouble();
      assertThat(score).isLessThanOrEqualTo(previous);
      assertThat(score).isEqualTo(scores.get(item.get("index").asInt()).asDouble());
      previous = score;
    }
    assertThat(ranked.get("best").asInt()).isEqualTo(ranked.at("/ranking/0/index").asInt());

    // Errors: each names what is wrong.
    assertError(post(s, "/v1/score", null, body), 401, "unauthorized", "Authorization");
    assertError(post(s, "/v1/score", "nope", body), 401, "unauthorized", "Authorization");
    assertError(post(s, "/v1/score", KEY, "{"), 400, "invalid_json", null);
    assertError(
        post(s, "/v1/score", KEY, "{\"responses\":[\"a\"]}"), 400, "missing_field", "prompt");
    assertError(
        post(s, "/v1/score", KEY, "{\"prompt\":\"p\",\"responses\":[]}"),
        400,
        "invalid_field",
        "responses");
    assertError(
        post(s, "/v1/rank", KEY, "{\"prompt\":\"p\",\"responses\":[\"a\",\"\"]}"),
        400,
        "invalid_field",
        "responses[1]");
    assertError(
        post(s, "/v1/score", KEY, "{\"prompt\":\"p\",\"responses\":[\"a\"],\"model\":\"nope\"}"),
        404,
        "no_model",
        "model");
    assertError(post(s, "/v1/score", "other-key", body), 404, "no_model", "model");
    var wrongType =
        http.send(
            HttpRequest.newBuilder(URI.create(s.uri() + "/v1/score"))
                .header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertError(wrongType, 415, "unsupported_media_type", "Content-Type");
    assertError(get(s, "/v1/scores", KEY), 404, "not_found", null);
    assertError(get(s, "/v1/score", KEY), 405, "method_not_allowed", null);
    assertThat(get(s, "/healthz", null).statusCode()).isEqualTo(200);
  }

  /**
   * An encoder checkpoint is served like any model: rebuilt from the config and tokenizer it
   * carries, scored in batches, best-of-N ordered by its rewards, its load measured.
   */
  @Test
  void anEncoderCheckpointIsRebuiltFromWhatItCarriesAndServed() throws Exception {
    setUp();
    ScorerServer s = scorer(Map.of("rollout.controller", "0"));
    TestCheckpoints.publish(
        store,
        producer,
        topics,
        TENANT,
        MODEL,
        trainPairs.subList(0, 200),
        TestCheckpoints.Kind.GOOD,
        TestCheckpoints.ENCODER);
    awaitAnnounced(s, 1);
    new RolloutCommands(Map.of("bootstrap.servers", KAFKA.bootstrapServers()), topics)
        .pin(TENANT, MODEL, 1, "test", "serve the encoder");
    awaitVersion(s, "u", 1);
    var scored = post(s, "/v1/score", KEY, scoreBody("u", "Use xs[::-1].", "Maybe.", "No idea."));
    assertThat(scored.statusCode()).isEqualTo(200);
    JsonNode body = json(scored);
    assertThat(body.get("scores")).hasSize(3);
    for (JsonNode score : body.get("scores")) {
      assertThat(Double.isFinite(score.asDouble())).isTrue();
    }
    var models = json(get(s, "/v1/models", KEY));
    assertThat(models.toString()).contains("encoder");
    String ranking =
        "{\"prompt\":\"How do I reverse a list?\",\"responses\":[\"a\",\"Use reversed(xs).\",\"b c\"]}";
    JsonNode ranked = json(post(s, "/v1/rank", KEY, ranking));
    assertThat(ranked.toString()).contains("Use reversed(xs).");
    String metrics = metrics(s);
    assertThat(io.prefstream.testing.Promtool.problems(metrics)).isEmpty();
    assertThat(metrics)
        .contains("prefstream_scorer_checkpoint_load_seconds_count{model_type=\"encoder\"")
        .contains("prefstream_scorer_checkpoint_bytes_sum{model_type=\"encoder\"");
  }

  @Test
  void aFullQueueAnswers429WithRetryAfterAndTheRestAreScored() throws Exception {
    setUp();
    ScorerServer s = scorer(Map.of("scorer.queue-capacity", "16", "scorer.max-batch", "16"));
    publish(TestCheckpoints.Kind.GOOD);
    awaitVersion(s, "u", 1);
    String body = scoreBody("u", "A", "B b", "C c c", "D d d d", "E", "F f", "G g g", "H h h h");
    Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    AtomicInteger retryAfter = new AtomicInteger();
    List<Thread> clients = new ArrayList<>();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    for (int c = 0; c < 12; c++) {
      Thread t =
          new Thread(
              () -> {
                while (System.nanoTime() < end) {
                  try {
                    var r = post(s, "/v1/score", KEY, body);
                    statuses.merge(r.statusCode(), 1, Integer::sum);
                    if (r.statusCode() == 429) {
                      if (!json(r).get("error").asText().equals("overloaded")) {
                        statuses.merge(-2, 1, Integer::sum); // a 429 of another kind
                      }
                      r.headers().firstValue("Retry-After").ifPresent(v -> retryAfter.set(1));
                    }
                  } catch (Exception e) {
                    statuses.merge(-1, 1, Integer::sum);
                  }
                }
              });
      t.start();
      clients.add(t);
    }
    for (Thread t : clients) {
      t.join();
    }
    assertThat(statuses.keySet()).as("statuses %s", statuses).containsOnly(200, 429);
    assertThat(statuses.get(200)).isPositive();
    assertThat(statuses.get(429)).isPositive();
    assertThat(retryAfter.get()).isEqualTo(1);
    assertThat(metrics(s)).contains("prefstream_scorer_overloaded_total");
  }

  /** The sampled score records, once the first has arrived (within 10 s). */
  private List<io.prefstream.avro.ScoreRecord> scoreRecords() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      List<io.prefstream.avro.ScoreRecord> out =
          KAFKA.readToEnd(topics.scores()).stream().map(r -> r.value()).toList();
      if (!out.isEmpty() || System.nanoTime() > deadline) {
        return out;
      }
      Thread.sleep(200);
    }
  }

  private void assertError(HttpResponse<String> r, int status, String error, String field)
      throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    JsonNode body = json(r);
    assertThat(body.get("error").asText()).isEqualTo(error);
    if (field != null) {
      assertThat(body.get("field").asText()).isEqualTo(field);
    }
    assertThat(body.get("reason").asText()).isNotBlank();
  }

  private HttpResponse<String> get(ScorerServer s, String path, String key) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.uri() + path)).GET();
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The scorer's meters, from its own /metrics listener. */
  private String metrics(ScorerServer s) throws Exception {
    return http.send(
            HttpRequest.newBuilder(s.metricsUri()).GET().build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private void awaitAnnounced(ScorerServer s, long version) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (s.registryFollower().checkpoint(Registry.key(TENANT, MODEL), version) == null) {
      assertThat(System.nanoTime()).as("v%d announced", version).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private void awaitServing(ScorerServer s, long candidate) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      Serving.Route r = s.serving().route(Registry.key(TENANT, MODEL));
      if (r != null && r.candidate() != null && r.candidate().version() == candidate) {
        return;
      }
      assertThat(System.nanoTime()).as("candidate v%d loaded", candidate).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private void awaitVersion(ScorerServer s, String user, long version) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      var r = post(s, "/v1/score", KEY, scoreBody(user, "x"));
      if (r.statusCode() == 200 && json(r).get("version").asLong() == version) {
        return;
      }
      assertThat(System.nanoTime()).as("serving v%d: %s", version, r.body()).isLessThan(deadline);
      Thread.sleep(100);
    }
  }
}
