package io.prefstream.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.prefstream.avro.AlertLevel;
import io.prefstream.avro.Annotator;
import io.prefstream.avro.AnnotatorKind;
import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.DriftReport;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.LabeledPair;
import io.prefstream.avro.PairwiseChoice;
import io.prefstream.avro.Ranking;
import io.prefstream.avro.Thumb;
import io.prefstream.schemas.Topics;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Duplicate and late rates and annotator disagreement, counted by hand. */
class DataQualityTest {

  private static final Instant T0 = Instant.parse("2026-11-24T00:00:00Z");
  private final Topics topics = Topics.withPrefix("t");
  @org.junit.jupiter.api.io.TempDir java.nio.file.Path stateDir;
  private TopologyTestDriver driver;
  private TestInputTopic<String, FeedbackEvent> feedback;
  private TestInputTopic<String, DeadLetter> letters;
  private TestOutputTopic<String, DriftReport> drift;
  private int ids;

  @BeforeEach
  void setUp() {
    driver = TestTopology.driver(topics, stateDir);
    feedback =
        driver.createInputTopic(
            topics.feedback().name(), Serdes.String().serializer(), topics.feedback().valueSerde());
    letters =
        driver.createInputTopic(
            topics.feedbackDlq().name(),
            Serdes.String().serializer(),
            topics.feedbackDlq().valueSerde());
    drift =
        driver.createOutputTopic(
            topics.drift().name(), Serdes.String().deserializer(), topics.drift().valueSerde());
  }

  @AfterEach
  void close() {
    driver.close();
  }

  private FeedbackEvent event(
      String id, String interaction, String user, Object payload, Instant at) {
    return FeedbackEvent.newBuilder()
        .setEventId(id)
        .setTenantId("acme")
        .setOccurredAt(at)
        .setUserId(user)
        .setInteractionId(interaction)
        .setPayload(payload)
        .build();
  }

  private void send(FeedbackEvent e) {
    feedback.pipeInput("acme/" + e.getInteractionId(), e, e.getOccurredAt());
  }

  private FeedbackEvent send(String interaction, String user, Object payload, Instant at) {
    FeedbackEvent e = event("e" + ids++, interaction, user, payload, at);
    send(e);
    return e;
  }

  private static Thumb thumb(String response, boolean up, Annotator by) {
    return Thumb.newBuilder().setResponseId(response).setUp(up).setAnnotator(by).build();
  }

  private Map<String, DriftReport> closeFirstWindow() {
    send("closing", "u-end", thumb("r", true, null), T0.plusSeconds(61));
    return drift.readKeyValuesToList().stream()
        .collect(Collectors.toMap(kv -> kv.value.getMetric(), kv -> kv.value, (a, b) -> b));
  }

  @Test
  void duplicatesByEventIdAndByContentAndLateEventsByHand() {
    for (int i = 0; i < 100; i++) {
      Instant at = T0.plusMillis(500L * i);
      FeedbackEvent e = send("i" + i, "u" + i, thumb("i" + i + "-r1", i % 2 == 0, null), at);
      if (i % 30 == 10) { // i = 10, 40, 70: a client retry, the same event id again
        send(e);
      }
      if (i == 20 || i == 50) { // the same thumb by the same user under a new event id
        send("i" + i, "u" + i, thumb("i" + i + "-r1", true, null), at.plusMillis(100));
      }
      if (i % 20 == 19) { // at 9.5 s, 19.5 s, ...: an event 6 s behind the newest (> 5 s)
        send("late" + i, "v" + i, thumb("late" + i + "-r1", true, null), at.minusSeconds(6));
      }
    }
    // Three thumbs by the same user on different responses are not duplicates of each other.
    send("j", "w", thumb("j-r1", true, null), T0.plusSeconds(50));
    send("j", "w", thumb("j-r2", true, null), T0.plusSeconds(50));
    send("j", "w", thumb("j-r3", true, null), T0.plusSeconds(50));
    letters.pipeInput(
        "acme/x",
        DeadLetter.newBuilder()
            .setRaw(ByteBuffer.wrap(new byte[] {1}))
            .setRawSize(1)
            .setReason("late: occurred_at is beyond the allowed lateness")
            .setSource("pair-builder")
            .setTenantId("acme")
            .setTime(T0.plusSeconds(55))
            .build(),
        T0.plusSeconds(55));

    Map<String, DriftReport> reports = closeFirstWindow();

    double events = 100 + 3 + 2 + 5 + 3; // originals, retries, repeats, late ones, j's
    DriftReport duplicates = reports.get("duplicate_rate");
    assertThat(duplicates.getValue()).isCloseTo(5 / events, within(1e-12));
    assertThat(duplicates.getDetails())
        .containsEntry("by_event_id", 3.0)
        .containsEntry("by_content", 2.0);
    assertThat(duplicates.getSampleSize()).isEqualTo((long) events);
    assertThat(duplicates.getLevel()).isEqualTo(AlertLevel.WARN); // 0.044: above 0.01, below 0.05
    DriftReport late = reports.get("late_rate");
    assertThat(late.getValue()).isCloseTo(5 / events, within(1e-12));
    assertThat(late.getDetails()).containsEntry("late", 5.0).containsEntry("dropped_late", 1.0);
    assertThat(late.getLevel()).isEqualTo(AlertLevel.OK);
  }

  @Test
  void annotatorDisagreementCountsPairsOfAnnotatorsOnTheSameItemByHand() {
    Annotator a1 = new Annotator("a1", AnnotatorKind.HUMAN, 1.0);
    Annotator a2 = new Annotator("a2", AnnotatorKind.HUMAN, 1.0);
    Annotator a3 = new Annotator("a3", AnnotatorKind.HUMAN, 1.0);
    for (int round = 0; round < 3; round++) {
      Instant at = T0.plusSeconds(10L * round);
      String prompt = "prompt " + round;
      // A labeled pair: a1 and a2 choose A, a3 chooses B (texts given the other way round):
      // a1–a2 agree, a3 disagrees with both. Sent under different interactions (an import).
      send("lp" + round + "a", null, labeled(prompt, "A", "B", a1), at);
      send("lp" + round + "b", null, labeled(prompt, "A", "B", a2), at);
      send("lp" + round + "c", null, labeled(prompt, "B", "A", a3), at);
      // A pairwise choice: a1 picks r1, a2 picks r2: one disagreement. a1 then changes its mind:
      // the new label replaces the old one and counts nothing again.
      String choice = "pc" + round;
      send(choice, null, choice(choice + "-r1", choice + "-r2", a1), at);
      send(choice, null, choice(choice + "-r2", choice + "-r1", a2), at);
      send(choice, null, choice(choice + "-r2", choice + "-r1", a1), at.plusSeconds(1));
      // Rankings of r1, r2, r3: (r1, r2) swapped, the other two pairs in the same order.
      String rank = "rk" + round;
      send(rank, null, ranking(a1, rank + "-r1", rank + "-r2", rank + "-r3"), at);
      send(rank, null, ranking(a2, rank + "-r2", rank + "-r1", rank + "-r3"), at);
      // Thumbs on one response: up and down.
      String th = "th" + round;
      send(th, null, thumb(th + "-r1", true, a1), at);
      send(th, null, thumb(th + "-r1", false, a2), at);
      // The same annotator's thumb on another interaction's response: another item.
      send(th + "x", null, thumb(th + "x-r1", false, a1), at);
    }

    DriftReport r = closeFirstWindow().get("annotator_disagreement");

    // Per round: agree 1 (pair) + 2 (ranking) = 3; disagree 2 + 1 + 1 + 1 = 5.
    assertThat(r.getDetails())
        .containsEntry("agreements", 9.0)
        .containsEntry("disagreements", 15.0);
    assertThat(r.getValue()).isCloseTo(15.0 / 24, within(1e-12));
    assertThat(r.getSampleSize()).isEqualTo(24);
    assertThat(r.getLevel()).isEqualTo(AlertLevel.ALERT);
  }

  @Test
  void rankingsAreComparedPairByPair() {
    assertThat(DataQuality.concordance("a\u001fb\u001fc", "a\u001fb\u001fc")).containsExactly(3, 0);
    assertThat(DataQuality.concordance("a\u001fb\u001fc", "c\u001fb\u001fa")).containsExactly(0, 3);
    assertThat(DataQuality.concordance("a\u001fb\u001fc\u001fd", "b\u001fa\u001fd\u001fc"))
        .containsExactly(4, 2);
  }

  @Test
  void fewComparisonsOrEventsReportNothing() {
    Annotator a1 = new Annotator("a1", AnnotatorKind.HUMAN, 1.0);
    Annotator a2 = new Annotator("a2", AnnotatorKind.HUMAN, 1.0);
    send("t", null, thumb("t-r1", true, a1), T0);
    send("t", null, thumb("t-r1", false, a2), T0);

    Map<String, DriftReport> reports = closeFirstWindow();

    assertThat(reports).doesNotContainKeys("annotator_disagreement", "duplicate_rate", "late_rate");
  }

  private static LabeledPair labeled(String prompt, String chosen, String rejected, Annotator by) {
    return LabeledPair.newBuilder()
        .setPrompt(prompt)
        .setChosen(chosen)
        .setRejected(rejected)
        .setAnnotator(by)
        .build();
  }

  private static PairwiseChoice choice(String chosen, String rejected, Annotator by) {
    return PairwiseChoice.newBuilder()
        .setChosenResponseId(chosen)
        .setRejectedResponseId(rejected)
        .setAnnotator(by)
        .build();
  }

  private static Ranking ranking(Annotator by, String... ids) {
    return Ranking.newBuilder().setResponseIds(List.of(ids)).setAnnotator(by).build();
  }
}
