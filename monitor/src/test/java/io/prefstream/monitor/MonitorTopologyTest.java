package io.prefstream.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.prefstream.avro.AlertLevel;
import io.prefstream.avro.Arm;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.DriftReport;
import io.prefstream.avro.Histogram;
import io.prefstream.avro.ScoreRecord;
import io.prefstream.monitor.stats.Drift;
import io.prefstream.schemas.Topics;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MonitorTopologyTest {

  private static final Instant T0 = Instant.parse("2026-11-24T00:00:00Z");
  private final Topics topics = Topics.withPrefix("t");
  @org.junit.jupiter.api.io.TempDir java.nio.file.Path stateDir;
  private TopologyTestDriver driver;
  private TestInputTopic<String, ScoreRecord> scores;
  private TestOutputTopic<String, DriftReport> drift;

  @BeforeEach
  void setUp() {
    driver = TestTopology.driver(topics, stateDir);
    var checkpoints =
        driver.createInputTopic(
            topics.checkpoints().name(),
            Serdes.String().serializer(),
            topics.checkpoints().valueSerde());
    checkpoints.pipeInput("acme/reward/1", checkpoint());
    scores =
        driver.createInputTopic(
            topics.scores().name(), Serdes.String().serializer(), topics.scores().valueSerde());
    drift =
        driver.createOutputTopic(
            topics.drift().name(), Serdes.String().deserializer(), topics.drift().valueSerde());
  }

  @AfterEach
  void close() {
    driver.close();
  }

  /** Reference: edges 0, 1, 2, 3 with 10 scores in each bin. */
  private static CheckpointPublished checkpoint() {
    return CheckpointPublished.newBuilder()
        .setTenantId("acme")
        .setModel("reward")
        .setVersion(1)
        .setModelType("ngram-mlp")
        .setUri("file:///x")
        .setManifestSha256("0".repeat(64))
        .setFiles(List.of())
        .setReferenceHistogram(new Histogram(List.of(0.0, 1.0, 2.0, 3.0), List.of(10L, 10L, 10L)))
        .setPublishedAt(T0)
        .build();
  }

  private void score(double raw, int words, Instant at) {
    scores.pipeInput(
        "acme/reward/1",
        ScoreRecord.newBuilder()
            .setTenantId("acme")
            .setModel("reward")
            .setVersion(1)
            .setArm(Arm.CHAMPION)
            .setScore(raw)
            .setRawScore(raw)
            .setPromptChars(10)
            .setResponseChars(words * 5)
            .setResponseTokens(words)
            .setAt(at)
            .build(),
        at);
  }

  private Map<String, DriftReport> closeWindow(Instant after) {
    score(1.5, 1, after); // stream time passes the window's end: it closes and reports
    return drift.readKeyValuesToList().stream()
        .collect(Collectors.toMap(kv -> kv.value.getMetric(), kv -> kv.value, (a, b) -> b));
  }

  @Test
  void scoreDriftAgainstTheReferenceHistogramByHand() {
    // live: bins (1, 3, 0) — a score below the first edge counts in the first bin
    score(-0.5, 1, T0.plusSeconds(1));
    score(1.2, 2, T0.plusSeconds(2));
    score(1.5, 3, T0.plusSeconds(3));
    score(1.9, 4, T0.plusSeconds(59));
    Map<String, DriftReport> reports = closeWindow(T0.plusSeconds(61));
    double psi = Drift.psi(new double[] {10, 10, 10}, new double[] {1, 3, 0});
    // by hand: shares (1/3 each) vs (0.25, 0.75, 0 → 1e-4)
    double byHand =
        (0.25 - 1.0 / 3) * Math.log(0.25 * 3)
            + (0.75 - 1.0 / 3) * Math.log(0.75 * 3)
            + (1e-4 - 1.0 / 3) * Math.log(1e-4 * 3);
    assertThat(psi).isCloseTo(byHand, within(1e-12));
    DriftReport p = reports.get("score_psi");
    assertThat(p.getValue()).isCloseTo(byHand, within(1e-12));
    assertThat(p.getSampleSize()).isEqualTo(4);
    assertThat(p.getVersion()).isEqualTo(1L);
    assertThat(p.getWindowStart()).isEqualTo(T0);
    assertThat(p.getWindowEnd()).isEqualTo(T0.plusSeconds(60));
    assertThat(p.getLevel()).isEqualTo(AlertLevel.ALERT); // 2.3 ≥ 0.25
    assertThat(p.getAlertThreshold()).isEqualTo(0.25);
    // KS: cumulative (1/3, 2/3, 1) vs (0.25, 1, 1): largest gap 1/3
    assertThat(reports.get("score_ks").getValue()).isCloseTo(1.0 / 3, within(1e-12));
    // scores rise with words: ρ = 1
    assertThat(reports.get("length_reward_spearman").getValue()).isCloseTo(1.0, within(1e-12));
    // Informational: length alone is no alarm; the labels' own preference is the yardstick.
    assertThat(reports.get("length_reward_spearman").getLevel()).isEqualTo(AlertLevel.OK);
    KeyValueStore<String, DriftReport> latest = driver.getKeyValueStore(MonitorTopology.LATEST);
    assertThat(latest.get("acme/reward/score_psi").getValue()).isCloseTo(byHand, within(1e-12));
  }

  @Test
  void aWindowReportsOnlyOnceItClosesAndLevelsHaveHysteresis() {
    // window 1: matches the reference (10/10/10 shape): PSI 0, level OK
    for (int i = 0; i < 30; i++) {
      score(0.5 + i % 3, 1 + (i * 7) % 5, T0.plusSeconds(i));
    }
    assertThat(drift.isEmpty()).as("nothing before the window closes").isTrue();
    Map<String, DriftReport> first = closeWindow(T0.plusSeconds(60));
    assertThat(first.get("score_psi").getValue()).isCloseTo(0, within(1e-12));
    assertThat(first.get("score_psi").getLevel()).isEqualTo(AlertLevel.OK);
    // window 2 (the closing score at 60 s counts here): shares chosen for PSI ≈ 0.11 → WARN
    Map<Integer, Integer> bins = new HashMap<>(Map.of(0, 6, 1, 10, 2, 14)); // plus that 1.5
    int s = 61;
    for (var e : bins.entrySet()) {
      for (int i = 0; i < e.getValue(); i++) {
        score(0.5 + e.getKey(), 2, T0.plusSeconds(s++ % 119 + 1));
      }
    }
    Map<String, DriftReport> second = closeWindow(T0.plusSeconds(120));
    double psi = Drift.psi(new double[] {10, 10, 10}, new double[] {6, 11, 14});
    assertThat(second.get("score_psi").getValue()).isCloseTo(psi, within(1e-12));
    assertThat(psi).isBetween(0.1, 0.25);
    assertThat(second.get("score_psi").getLevel()).isEqualTo(AlertLevel.WARN);
    // window 3 (with the closing score at 120 s): PSI ≈ 0.084, below the warn threshold but
    // not below its leave share (0.08): still WARN
    for (int i = 0; i < 6; i++) {
      score(0.5, 2, T0.plusSeconds(121 + i));
    }
    for (int i = 0; i < 10; i++) {
      score(1.5, 2, T0.plusSeconds(130 + i));
    }
    for (int i = 0; i < 12; i++) {
      score(2.5, 2, T0.plusSeconds(140 + i));
    }
    Map<String, DriftReport> third = closeWindow(T0.plusSeconds(180));
    double psi3 = Drift.psi(new double[] {10, 10, 10}, new double[] {6, 11, 12});
    assertThat(third.get("score_psi").getValue()).isCloseTo(psi3, within(1e-12));
    assertThat(psi3).isBetween(0.08, 0.1);
    assertThat(third.get("score_psi").getLevel()).isEqualTo(AlertLevel.WARN);
  }

  private void feedback(
      TestInputTopic<String, io.prefstream.avro.FeedbackEvent> topic,
      Object payload,
      Instant at,
      int i) {
    var e =
        io.prefstream.avro.FeedbackEvent.newBuilder()
            .setEventId("e-" + at.toEpochMilli() + "-" + i)
            .setTenantId("acme")
            .setOccurredAt(at)
            .setReceivedAt(at)
            .setInteractionId("i-" + i)
            .setPayload(payload)
            .build();
    topic.pipeInput("acme/i-" + i, e, at);
  }

  @Test
  void inputAndLabelDriftAgainstTheDecayedReferenceByHand() {
    var topic =
        driver.createInputTopic(
            topics.feedback().name(), Serdes.String().serializer(), topics.feedback().valueSerde());
    var examples = io.prefstream.schemas.Examples.oneOfEachPayload("acme", "x", T0);
    var exposure = (io.prefstream.avro.Exposure) examples.get(0).getPayload();
    var thumb = (io.prefstream.avro.Thumb) examples.get(2).getPayload();
    // reference window: 300 exposures of 20-character replies, 200 thumbs of which 150 up
    for (int i = 0; i < 300; i++) {
      feedback(
          topic,
          io.prefstream.avro.Exposure.newBuilder(exposure).setResponse("x".repeat(20)).build(),
          T0.plusSeconds(i % 60),
          i);
    }
    for (int i = 0; i < 200; i++) {
      feedback(
          topic,
          io.prefstream.avro.Thumb.newBuilder(thumb).setUp(i < 150).build(),
          T0.plusSeconds(i % 60),
          1000 + i);
    }
    // next window: 150 exposures of 1,000-character replies, 150 thumbs of which 40 up
    for (int i = 0; i < 150; i++) {
      feedback(
          topic,
          io.prefstream.avro.Exposure.newBuilder(exposure).setResponse("y".repeat(1000)).build(),
          T0.plusSeconds(60 + i % 30),
          2000 + i);
    }
    for (int i = 0; i < 150; i++) {
      feedback(
          topic,
          io.prefstream.avro.Thumb.newBuilder(thumb).setUp(i < 40).build(),
          T0.plusSeconds(60 + i % 30),
          3000 + i);
    }
    feedback(topic, thumb, T0.plusSeconds(125), 999); // closes the second window
    Map<String, DriftReport> reports =
        drift.readKeyValuesToList().stream()
            .collect(Collectors.toMap(kv -> kv.key, kv -> kv.value, (a, b) -> b));
    // Only the second window is compared: the first had no reference yet.
    DriftReport lengths = reports.get("acme/inputs/response_length_psi");
    double byHand = 2 * (1 - 1e-4) * Math.log(1e4); // all mass moved from one bin to another
    assertThat(lengths.getValue()).isCloseTo(byHand, within(1e-9));
    assertThat(lengths.getLevel()).isEqualTo(AlertLevel.ALERT);
    assertThat(reports.get("acme/inputs/prompt_length_psi").getValue()).isCloseTo(0, within(1e-12));
    DriftReport thumbs = reports.get("acme/inputs/thumbs_up_rate_change");
    assertThat(thumbs.getValue()).isCloseTo(Math.abs(40.0 / 150 - 0.75), within(1e-12));
    assertThat(thumbs.getDetails()).containsEntry("reference", 0.75);
    assertThat(thumbs.getLevel()).isEqualTo(AlertLevel.ALERT);
    // kinds: reference (exposure 0.6, thumb 0.4), window (0.5, 0.5); m = (0.55, 0.45)
    double js =
        (0.5 * (0.6 * log2(0.6 / 0.55) + 0.4 * log2(0.4 / 0.45))
            + 0.5 * (0.5 * log2(0.5 / 0.55) + 0.5 * log2(0.5 / 0.45)));
    assertThat(reports.get("acme/inputs/signal_kind_js").getValue()).isCloseTo(js, within(1e-12));
    assertThat(reports.get("acme/inputs/signal_kind_js").getLevel()).isEqualTo(AlertLevel.OK);
    assertThat(reports).doesNotContainKey("acme/inputs/rating_mean_change"); // no ratings
  }

  @Test
  void theDeadLetterRateOfAWindow() {
    var events =
        driver.createInputTopic(
            topics.feedback().name(), Serdes.String().serializer(), topics.feedback().valueSerde());
    var letters =
        driver.createInputTopic(
            topics.feedbackDlq().name(),
            Serdes.String().serializer(),
            topics.feedbackDlq().valueSerde());
    var thumb =
        (io.prefstream.avro.Thumb)
            io.prefstream.schemas.Examples.oneOfEachPayload("acme", "x", T0).get(2).getPayload();
    // A product whose clock is two hours behind (a simulation, a replay): its events are counted
    // when ingest received them, on the dead letters' clock.
    for (int i = 0; i < 120; i++) {
      Instant received = T0.plusSeconds(i % 60);
      var e =
          io.prefstream.avro.FeedbackEvent.newBuilder()
              .setEventId("e-" + i)
              .setTenantId("acme")
              .setOccurredAt(received.minus(java.time.Duration.ofHours(2)))
              .setReceivedAt(received)
              .setInteractionId("i-" + i)
              .setPayload(thumb)
              .build();
      events.pipeInput("acme/i-" + i, e, received);
    }
    for (int i = 0; i < 30; i++) {
      var d =
          io.prefstream.avro.DeadLetter.newBuilder()
              .setRaw(java.nio.ByteBuffer.wrap(new byte[] {1}))
              .setRawSize(1)
              .setReason("missing field event_id")
              .setSource("ingest")
              .setTenantId(i % 10 < 9 ? "acme" : null) // without a tenant: not attributed
              .setTime(T0.plusSeconds(i))
              .build();
      letters.pipeInput("d" + i, d, T0.plusSeconds(i));
    }
    feedback(events, thumb, T0.plusSeconds(61), 999);
    DriftReport r =
        drift.readKeyValuesToList().stream()
            .filter(kv -> kv.key.equals("acme/inputs/dead_letter_rate"))
            .findFirst()
            .orElseThrow()
            .value;
    assertThat(r.getValue()).isCloseTo(9.0 / 49, within(1e-12));
    assertThat(r.getDetails()).containsEntry("dead_letters", 27.0).containsEntry("accepted", 120.0);
    assertThat(r.getLevel()).isEqualTo(AlertLevel.WARN); // 0.18: above 0.05, below 0.2
  }

  @Test
  void theLongerWinsShareOfPairsAgainstItsReference() {
    var topic =
        driver.createInputTopic(
            topics.pairs().name(), Serdes.String().serializer(), topics.pairs().valueSerde());
    // window 1: 30 pairs, 24 where the longer reply won; window 2: 30 pairs, 12 of them
    for (int i = 0; i < 60; i++) {
      boolean longerWins = i < 30 ? i < 24 : i < 42;
      Instant at = T0.plusSeconds(i < 30 ? i : 60 + (i - 30));
      topic.pipeInput("acme/p" + i, pair(i, longerWins, at), at);
    }
    topic.pipeInput("acme/p-end", pair(99, true, T0.plusSeconds(125)), T0.plusSeconds(125));
    DriftReport r =
        drift.readKeyValuesToList().stream()
            .filter(kv -> kv.key.equals("acme/inputs/longer_wins_share_change"))
            .reduce((a, b) -> b)
            .orElseThrow()
            .value;
    assertThat(r.getValue()).isCloseTo(Math.abs(12.0 / 30 - 24.0 / 30), within(1e-12));
    assertThat(r.getDetails()).containsEntry("reference", 0.8);
    assertThat(r.getLevel()).isEqualTo(AlertLevel.ALERT);
  }

  /**
   * The labels prefer the longer reply in 75% of pairs; a model scoring longer replies higher in
   * about as many pairs raises nothing, one that always does is 0.25 past the labels: an ALERT.
   */
  @Test
  void aModelsLengthPreferenceIsJudgedAgainstTheLabelsOwn() {
    var topic =
        driver.createInputTopic(
            topics.pairs().name(), Serdes.String().serializer(), topics.pairs().valueSerde());
    for (int i = 0; i < 40; i++) {
      topic.pipeInput("acme/p" + i, pair(i, i < 30, T0.plusSeconds(i)), T0.plusSeconds(i));
    }
    topic.pipeInput("acme/p-end", pair(99, true, T0.plusSeconds(65)), T0.plusSeconds(65));
    Map<String, DriftReport> labels = byMetric();
    assertThat(labels.get("longer_wins_share").getValue()).isCloseTo(0.75, within(1e-12));

    // As much as the labels: scores follow length but for every third reply, marked down.
    for (int words = 1; words <= 20; words++) {
      score(words + (words % 3 == 0 ? -12 : 0), words, T0.plusSeconds(words));
    }
    Map<String, DriftReport> alike = closeWindow(T0.plusSeconds(61));
    double share = 154.0 / 190; // by hand, as longerScoredHigher counts
    assertThat(alike.get("longer_scored_higher_share").getValue()).isCloseTo(share, within(1e-12));
    DriftReport even = alike.get("length_preference_excess");
    assertThat(even.getValue()).isCloseTo(share - 0.75, within(1e-12));
    assertThat(even.getDetails()).containsEntry("label_share", 0.75);
    assertThat(even.getLevel()).isEqualTo(AlertLevel.OK);

    // More than the labels: every longer reply scored higher.
    for (int words = 1; words <= 20; words++) {
      score(words, words, T0.plusSeconds(120 + words));
    }
    DriftReport more = closeWindow(T0.plusSeconds(181)).get("length_preference_excess");
    assertThat(more.getValue()).isCloseTo(0.25, within(1e-12));
    assertThat(more.getLevel()).isEqualTo(AlertLevel.ALERT);
  }

  private Map<String, DriftReport> byMetric() {
    return drift.readKeyValuesToList().stream()
        .collect(Collectors.toMap(kv -> kv.value.getMetric(), kv -> kv.value, (a, b) -> b));
  }

  /** Pairs are counted by tenant, source and split, and those flagged REVISES apart. */
  @Test
  void pairsAndRevisionsAreCounted() {
    driver.close();
    var meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    driver = TestTopology.driver(topics, stateDir, meters);
    var topic =
        driver.createInputTopic(
            topics.pairs().name(), Serdes.String().serializer(), topics.pairs().valueSerde());
    for (int i = 0; i < 5; i++) {
      var p = pair(i, true, T0.plusSeconds(i));
      p.setSource(io.prefstream.avro.SourceKind.RATING);
      if (i == 4) {
        p.setFlags(List.of(MonitorTopology.REVISES));
        p.setRevises("p0");
      }
      topic.pipeInput("acme/p" + i, p, T0.plusSeconds(i));
    }
    assertThat(
            meters
                .get("prefstream.monitor.pairs")
                .tags("tenant", "acme", "source", "rating", "split", "train")
                .counter()
                .count())
        .isEqualTo(5);
    assertThat(
            meters
                .get("prefstream.monitor.pair.revisions")
                .tags("tenant", "acme", "source", "rating")
                .counter()
                .count())
        .isEqualTo(1);
  }

  private static io.prefstream.avro.PreferencePair pair(int i, boolean longerWins, Instant at) {
    return io.prefstream.avro.PreferencePair.newBuilder()
        .setPairId("p" + i)
        .setTenantId("acme")
        .setPrompt("p")
        .setChosen(longerWins ? "a long chosen reply" : "short")
        .setRejected(longerWins ? "short" : "a long rejected reply")
        .setWeight(1)
        .setMargin(0)
        .setSplit(io.prefstream.avro.Split.TRAIN)
        .setSource(io.prefstream.avro.SourceKind.PAIRWISE_CHOICE)
        .setInteractionId("i" + i)
        .setEventIds(java.util.List.of("e" + i))
        .setCriterion("overall")
        .setEventTime(at)
        .build();
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
