package io.prefstream.pairs;

import static io.prefstream.pairs.Feedback.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.ImplicitKind;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.SourceKind;
import io.prefstream.avro.Split;
import io.prefstream.config.Settings;
import io.prefstream.pairs.internal.InteractionFunction;
import io.prefstream.pairs.internal.PairBuilderMetrics;
import io.prefstream.pairs.internal.PairRules;
import io.prefstream.pairs.internal.PairRules.Drop;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Operator-harness tests of every pair rule, of event time (waiting for exposures, session end,
 * lateness) and of state and timer cleanup.
 */
class InteractionFunctionTest {

  private static final long GAP = 30_000;
  private static final long LATENESS = 120_000;

  private KeyedOneInputStreamOperatorTestHarness<String, FeedbackEvent, PreferencePair> harness;
  private InteractionFunction function;

  private void open(PairSemantics semantics) throws Exception {
    function = new InteractionFunction(semantics, "prefstream.feedback");
    harness =
        ProcessFunctionTestHarnesses.forKeyedProcessFunction(
            function, e -> e.getTenantId() + "/" + e.getInteractionId(), Types.STRING);
    harness.open();
  }

  private void open() throws Exception {
    open(PairSemantics.defaults());
  }

  @AfterEach
  void close() throws Exception {
    if (harness != null) {
      harness.close();
    }
  }

  private void send(FeedbackEvent... events) throws Exception {
    for (FeedbackEvent e : events) {
      harness.processElement(e, e.getOccurredAt().toEpochMilli());
    }
  }

  private void watermark(long time) throws Exception {
    harness.processWatermark(time);
  }

  private List<PreferencePair> pairs() {
    return harness.extractOutputValues();
  }

  private List<DeadLetter> deadLetters() {
    var queue = harness.getSideOutput(InteractionFunction.DEAD_LETTERS);
    List<DeadLetter> out = new ArrayList<>();
    if (queue != null) {
      for (StreamRecord<DeadLetter> r : queue) {
        out.add(r.getValue());
      }
    }
    return out;
  }

  private PairBuilderMetrics metrics() {
    return function.metrics();
  }

  private static List<String> order(List<PreferencePair> pairs) {
    return pairs.stream()
        .map(p -> p.getChosenResponseId() + ">" + p.getRejectedResponseId())
        .toList();
  }

  private void assertClosed() {
    assertThat(harness.numEventTimeTimers()).as("event-time timers").isZero();
    assertThat(harness.numProcessingTimeTimers()).as("processing-time timers").isZero();
    assertThat(harness.numKeyedStateEntries()).as("keyed state entries").isZero();
  }

  @Test
  void shouldEmitLabeledPairAtOnceWeightedByConfidence() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(f.labeled("good answer", "bad answer", 0.8, T0));

    assertThat(pairs()).hasSize(1);
    PreferencePair p = pairs().get(0);
    assertThat(p.getSource()).isEqualTo(SourceKind.LABELED_PAIR);
    assertThat(p.getChosen()).isEqualTo("good answer");
    assertThat(p.getRejected()).isEqualTo("bad answer");
    assertThat(p.getPrompt()).isEqualTo(Feedback.PROMPT);
    assertThat(p.getWeight()).isEqualTo(0.8);
    assertThat(p.getEventIds()).containsExactly("i-1-e0");
    assertThat(p.getAnnotator().getId()).isEqualTo("a1");
    assertThat(p.getPairId()).hasSize(32);
    assertThat(p.getEventTime().toEpochMilli()).isEqualTo(T0);
  }

  @Test
  void shouldEmitChoiceAsSoonAsBothResponsesAreExposed() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(f.exposure("r1", T0), f.exposure("r2", T0 + 1), f.choice("r2", "r1", 0.5, "u1", T0 + 2));

    assertThat(pairs()).hasSize(1);
    PreferencePair p = pairs().get(0);
    assertThat(p.getSource()).isEqualTo(SourceKind.PAIRWISE_CHOICE);
    assertThat(p.getChosen()).isEqualTo("answer r2");
    assertThat(p.getRejected()).isEqualTo("answer r1");
    assertThat(p.getWeight()).isEqualTo(0.5);
    assertThat(p.getEventIds()).containsExactly("i-1-e2", "i-1-e1", "i-1-e0");
    assertThat(p.getEventTime().toEpochMilli()).isEqualTo(T0 + 2);
  }

  @Test
  void shouldHoldSignalArrivingBeforeItsExposure() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    FeedbackEvent r1 = f.exposure("r1", T0);
    FeedbackEvent r2 = f.exposure("r2", T0 + 1);
    FeedbackEvent choice = f.choice("r1", "r2", T0 + 2);
    send(choice, r1);
    assertThat(pairs()).as("r2 not exposed yet").isEmpty();

    send(r2);
    assertThat(order(pairs())).containsExactly("r1>r2");
    assertThat(pairs().get(0).getFlags()).isEmpty();
  }

  @Test
  void tieMakesNoTrainingPair() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(f.exposure("r1", T0), f.exposure("r2", T0), f.tie("r1", "r2", T0 + 1));
    watermark(T0 + LATENESS + GAP + 10);

    assertThat(pairs()).isEmpty();
    assertThat(metrics().droppedPairs(Drop.TIE)).isEqualTo(1);
    assertThat(deadLetters()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3, 4, 5, 6})
  void shouldEmitOnePairPerRankedCoupleWeighingNoMoreThanKMinusOneChoices(int k) throws Exception {
    open();
    Feedback f = new Feedback("i-" + k);
    List<String> ids = IntStream.range(0, k).mapToObj(i -> "r" + i).toList();
    for (String id : ids) {
      send(f.exposure(id, T0));
    }
    send(f.ranking(T0 + 1, ids));

    List<PreferencePair> pairs = pairs();
    assertThat(pairs).hasSize(k * (k - 1) / 2);
    assertThat(pairs).allMatch(p -> p.getSource() == SourceKind.RANKING);
    assertThat(pairs.stream().mapToDouble(PreferencePair::getWeight).sum())
        .isCloseTo(k - 1, within(1e-9));
    Set<String> expected = new HashSet<>();
    for (int i = 0; i < k; i++) {
      for (int j = i + 1; j < k; j++) {
        expected.add("r" + i + ">r" + j);
      }
    }
    assertThat(new HashSet<>(order(pairs))).isEqualTo(expected);
    assertThat(pairs.stream().map(PreferencePair::getPairId).distinct()).hasSize(pairs.size());
  }

  @Test
  void ratingPairsLeaveAsSoonAsBothSidesAreKnownAndCarryTheNormalisedGap() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.rating("r1", 5, 1, 5, T0 + 10),
        f.rating("r2", 2, 1, 5, T0 + 11));
    // No watermark yet: the two ratings already order r1 and r2.
    assertThat(order(pairs())).containsExactly("r1>r2");
    // A rating of a response not exposed yet waits for its exposure, and no longer.
    send(f.rating("r3", 5, 1, 5, T0 + 12));
    assertThat(pairs()).hasSize(1);
    send(f.exposure("r3", T0 + 13));
    assertThat(order(pairs())).containsExactlyInAnyOrder("r1>r2", "r3>r2");
    for (PreferencePair p : pairs()) {
      assertThat(p.getSource()).isEqualTo(SourceKind.RATING);
      assertThat(p.getMargin()).isCloseTo(0.75, within(1e-9));
      assertThat(p.getWeight()).isCloseTo(0.75, within(1e-9));
      assertThat(p.getEventIds()).hasSize(4);
      assertThat(p.getFlags()).isEmpty();
      assertThat(p.getRevises()).isNull();
    }
    // The session's end adds nothing: each pair was decided once.
    watermark(T0 + 13 + GAP);
    assertThat(pairs()).hasSize(2);
    watermark(T0 + 13 + GAP + LATENESS);
    assertClosed();
  }

  /**
   * An explicit pair leaves early; a later rating of the same annotator and criterion that reverses
   * it emits the corrected pair flagged REVISES, naming the pair it corrects; another annotator's
   * rating revises nothing of this one's; state and timers are cleaned at the end.
   */
  @Test
  void anEarlyRatingPairIsRevisedWhenALaterRatingOfTheSameAnnotatorReversesIt() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.rating("r1", 5, "ann", T0 + 1),
        f.rating("r2", 3, "ann", T0 + 2));
    assertThat(order(pairs())).containsExactly("r1>r2");
    PreferencePair first = pairs().get(0);
    // Another annotator's opposite view is its own pair, not a revision.
    send(f.rating("r1", 1, "bob", T0 + 3), f.rating("r2", 4, "bob", T0 + 4));
    assertThat(order(pairs())).containsExactly("r1>r2", "r2>r1");
    assertThat(pairs().get(1).getFlags()).doesNotContain(PairRules.REVISES);
    assertThat(pairs().get(1).getAnnotator().getId()).isEqualTo("bob");
    // The same annotator rates r2 equal to r1: no order, nothing emitted.
    send(f.rating("r2", 5, "ann", T0 + 5));
    assertThat(pairs()).hasSize(2);
    // ... then r1 lower than r2: the first pair is reversed.
    send(f.rating("r1", 2, "ann", T0 + 6));
    assertThat(order(pairs())).containsExactly("r1>r2", "r2>r1", "r2>r1");
    PreferencePair revision = pairs().get(2);
    assertThat(revision.getFlags()).containsExactly(PairRules.REVISES);
    assertThat(revision.getRevises()).isEqualTo(first.getPairId());
    assertThat(revision.getPairId()).isNotEqualTo(first.getPairId());
    assertThat(revision.getAnnotator().getId()).isEqualTo("ann");
    assertThat(revision.getMargin()).isCloseTo(0.75, within(1e-9));
    assertThat(metrics().revisions()).isEqualTo(1);
    // Back again: a revision of the revision.
    send(f.rating("r1", 5, "ann", T0 + 7), f.rating("r2", 1, "ann", T0 + 8));
    assertThat(pairs()).hasSize(4);
    assertThat(pairs().get(3).getRevises()).isEqualTo(revision.getPairId());
    assertThat(order(pairs()).get(3)).isEqualTo("r1>r2");
    // Redelivered (same event ids): nothing new. The session's end adds nothing either.
    send(f.rating("r1", 5, "ann", T0 + 7));
    watermark(T0 + 8 + GAP);
    assertThat(pairs()).hasSize(4);
    assertThat(metrics().revisions()).isEqualTo(2);
    watermark(T0 + 8 + GAP + LATENESS);
    assertClosed();
  }

  @ParameterizedTest
  @ValueSource(strings = {"0,10,9,4,0.5", "0,1,0.9,0.6,0.3", "-2,2,2,-2,1.0", "1,7,4,3,0.16667"})
  void ratingsOnAnyScaleNormaliseTheGap(String spec) throws Exception {
    String[] v = spec.split(",");
    double min = Double.parseDouble(v[0]);
    double max = Double.parseDouble(v[1]);
    open();
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.rating("r1", Double.parseDouble(v[2]), min, max, T0 + 1),
        f.rating("r2", Double.parseDouble(v[3]), min, max, T0 + 2));
    watermark(T0 + 2 + GAP);

    assertThat(order(pairs())).containsExactly("r1>r2");
    assertThat(pairs().get(0).getMargin()).isCloseTo(Double.parseDouble(v[4]), within(1e-4));
  }

  @Test
  void ratingMinGapSuppressesSmallDifferences() throws Exception {
    open(PairSemantics.from(Settings.of(Map.of("pairs.rating-min-gap", "0.3"))));
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.exposure("r3", T0),
        f.rating("r1", 5, 1, 5, T0 + 1),
        f.rating("r2", 4, 1, 5, T0 + 1),
        f.rating("r3", 1, 1, 5, T0 + 1));
    watermark(T0 + 1 + GAP);
    assertThat(order(pairs())).containsExactlyInAnyOrder("r1>r3", "r2>r3");
  }

  @Test
  void aLaterRatingOfTheSameResponseReplacesTheEarlierOne() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.rating("r1", 5, 1, 5, T0 + 1),
        f.rating("r1", 1, 1, 5, T0 + 2),
        f.rating("r2", 3, 1, 5, T0 + 3));
    watermark(T0 + 3 + GAP);
    assertThat(order(pairs())).containsExactly("r2>r1");
  }

  @Test
  void thumbsUpBeatsThumbsDown() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.exposure("r3", T0),
        f.thumb("r1", false, T0 + 1),
        f.thumb("r2", true, T0 + 2),
        f.thumb("r3", true, T0 + 3));
    watermark(T0 + 3 + GAP);
    assertThat(order(pairs())).containsExactlyInAnyOrder("r2>r1", "r3>r1");
    assertThat(pairs()).allMatch(p -> p.getSource() == SourceKind.THUMB && p.getWeight() == 1.0);
  }

  @Test
  void implicitPairsNeedAUtilityGapAboveTheThresholdAndWeighLittle() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.exposure("r3", T0),
        // r1: COPY + ACCEPT = 2.0; r2: long dwell = +1.0 (neutral at 20 s, full at 40 s);
        // r3: dwell 25 s = +0.25: r1-r2 = 1.0 (a pair), r2-r3 = 0.75 (none), r1-r3 = 1.75.
        f.signal("r1", ImplicitKind.COPY, 1, T0 + 1),
        f.signal("r1", ImplicitKind.ACCEPT, 1, T0 + 2),
        f.signal("r2", ImplicitKind.DWELL, 45, T0 + 3),
        f.signal("r3", ImplicitKind.DWELL, 25, T0 + 4));
    watermark(T0 + 4 + GAP);

    assertThat(order(pairs())).containsExactlyInAnyOrder("r1>r2", "r1>r3");
    assertThat(pairs()).allMatch(p -> p.getSource() == SourceKind.IMPLICIT);
    assertThat(pairs()).allMatch(p -> p.getWeight() == 0.2);
  }

  /**
   * A signal kind's own gap decides an interaction sooner when all its implicit signals are of such
   * kinds; a signal of a kind with the full gap holds it back again; a later signal after the short
   * gap opens a new session (not late).
   */
  @Test
  void implicitPairsOfKindsWithAShorterGapAreDecidedSooner() throws Exception {
    open(
        PairSemantics.from(
            Settings.of(
                Map.of("pairs.session-gap.copy", "5s", "pairs.session-gap.regenerate", "0s"))));
    Feedback f = new Feedback("i-1");
    Feedback g = new Feedback("i-2");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.signal("r1", ImplicitKind.COPY, 1, T0 + 1),
        g.exposure("r1", T0),
        g.exposure("r2", T0),
        g.signal("r1", ImplicitKind.COPY, 1, T0 + 1),
        g.signal("r2", ImplicitKind.REGENERATE, 1, T0 + 2));
    watermark(T0 + 1 + 5_000 - 1);
    assertThat(pairs()).isEmpty();
    watermark(T0 + 1 + 5_000);
    assertThat(pairs()).hasSize(1);
    assertThat(pairs().get(0).getInteractionId()).isEqualTo("i-1");
    assertThat(order(pairs())).containsExactly("r1>r2");
    // i-2 also holds a REGENERATE, whose gap is set to the session's (0): it waits for it.
    watermark(T0 + 2 + GAP - 1);
    assertThat(pairs()).hasSize(1);
    watermark(T0 + 2 + GAP);
    assertThat(pairs()).hasSize(2);
    // A signal 10 s after i-1's last: a new session, not late.
    send(f.signal("r2", ImplicitKind.COPY, 1, T0 + 10_000));
    assertThat(metrics().lateEvents()).isZero();
    assertThatThrownBy(
            () -> PairSemantics.from(Settings.of(Map.of("pairs.session-gap.dwell", "31s"))))
        .hasMessageContaining("pairs.session-gap.dwell (PT31S) must be at most pairs.session-gap");
    // A session gap set below the kinds' default gaps holds them to it.
    assertThat(
            PairSemantics.from(Settings.of(Map.of("pairs.session-gap", "1s")))
                .implicitGap(ImplicitKind.EDIT))
        .isEqualTo(java.time.Duration.ofSeconds(1));
    watermark(T0 + 10_000 + GAP + LATENESS);
    assertClosed();
  }

  /**
   * By default implicit pairs are decided 2 s after the interaction's last signal (edits wait 10
   * s); a signal that comes later and reverses a pair emits the corrected pair flagged REVISES,
   * naming the pair it corrects; one that changes no order emits nothing; state and timers are
   * cleaned at the end.
   */
  @Test
  void anImplicitPairDecidedEarlyIsRevisedWhenALaterSignalReversesIt() throws Exception {
    open();
    assertThat(PairSemantics.defaults().implicitGap(ImplicitKind.DWELL))
        .isEqualTo(java.time.Duration.ofSeconds(2));
    assertThat(PairSemantics.defaults().implicitGap(ImplicitKind.EDIT))
        .isEqualTo(java.time.Duration.ofSeconds(10));
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.signal("r1", ImplicitKind.COPY, 1, T0 + 1),
        f.signal("r1", ImplicitKind.ACCEPT, 1, T0 + 2));
    watermark(T0 + 2 + 2_000 - 1);
    assertThat(pairs()).isEmpty();
    watermark(T0 + 2 + 2_000);
    assertThat(order(pairs())).containsExactly("r1>r2");
    PreferencePair first = pairs().get(0);
    assertThat(first.getFlags()).isEmpty();

    // 5 s later the user copies and shares r2 and regenerates after reading r1 again: r2 now
    // leads, and the pair is emitted the other way round as a revision of the first.
    send(
        f.signal("r2", ImplicitKind.COPY, 1, T0 + 5_000),
        f.signal("r2", ImplicitKind.SHARE, 1, T0 + 5_001),
        f.signal("r2", ImplicitKind.ACCEPT, 1, T0 + 5_002),
        f.signal("r1", ImplicitKind.REGENERATE, 1, T0 + 5_003));
    watermark(T0 + 5_003 + 2_000);
    assertThat(order(pairs())).containsExactly("r1>r2", "r2>r1");
    PreferencePair revision = pairs().get(1);
    assertThat(revision.getFlags()).contains(PairRules.REVISES);
    assertThat(revision.getRevises()).isEqualTo(first.getPairId());
    assertThat(revision.getSource()).isEqualTo(SourceKind.IMPLICIT);
    assertThat(metrics().revisions()).isEqualTo(1);

    // A later dwell that leaves the order as it is: nothing new.
    send(f.signal("r2", ImplicitKind.DWELL, 40, T0 + 9_000));
    watermark(T0 + 9_000 + 2_000);
    assertThat(pairs()).hasSize(2);
    watermark(T0 + 9_000 + GAP + LATENESS);
    assertClosed();
  }

  @Test
  void regenerateLowersUtilityAndTheThresholdIsConfigurable() throws Exception {
    open(PairSemantics.from(Settings.of(Map.of("pairs.implicit.min-utility-gap", "2.5"))));
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.signal("r1", ImplicitKind.COPY, 1, T0 + 1),
        f.signal("r2", ImplicitKind.REGENERATE, 1, T0 + 2));
    watermark(T0 + 2 + GAP);
    assertThat(pairs()).as("gap 2.0 below 2.5").isEmpty();

    Feedback g = new Feedback("i-2");
    send(
        g.exposure("r1", T0),
        g.exposure("r2", T0),
        g.signal("r1", ImplicitKind.COPY, 5, T0 + 1),
        g.signal("r2", ImplicitKind.REGENERATE, 1, T0 + 2));
    watermark(T0 + 2 + GAP + 1);
    // COPY counts at most 3 times: 3 - (-1) = 4 >= 2.5
    assertThat(order(pairs())).containsExactly("r1>r2");
  }

  @Test
  void explicitFeedbackBeatsImplicitForTheSameTwoResponses() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.exposure("r3", T0),
        f.signal("r1", ImplicitKind.COPY, 3, T0 + 1),
        f.choice("r2", "r1", T0 + 2));
    watermark(T0 + 2 + GAP);

    // r1 > r2 by implicit utility is overruled by the user's choice; r1 > r3 stands.
    assertThat(order(pairs())).containsExactlyInAnyOrder("r2>r1", "r1>r3");
    assertThat(metrics().droppedPairs(Drop.SUPERSEDED_BY_EXPLICIT)).isEqualTo(1);
  }

  @Test
  void duplicateEventIdsAreDroppedAndCounted() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    FeedbackEvent e0 = f.exposure("r1", T0);
    FeedbackEvent e1 = f.exposure("r2", T0);
    FeedbackEvent choice = f.choice("r1", "r2", T0 + 1);
    FeedbackEvent labeled = f.labeled("x", "y", 1.0, T0 + 2);
    send(e0, e1, choice, choice, labeled, labeled, e1);

    assertThat(pairs()).hasSize(2);
    assertThat(metrics().duplicateEvents()).isEqualTo(3);
  }

  @Test
  void aCopiedExposureUnderANewIdAddsNothingAndAConflictingOneIsADeadLetter() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    FeedbackEvent r1 = f.exposure("r1", "first text", T0);
    send(r1, Feedback.withId(r1, "copy-1"), f.exposure("r1", "other text", T0 + 1));

    assertThat(metrics().duplicateEvents()).isEqualTo(1);
    assertThat(deadLetters())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.getField()).isEqualTo("exposure.response");
              assertThat(d.getReason()).contains("already exposed with another text");
              assertThat(d.getSource()).isEqualTo("pair-builder");
            });
  }

  @Test
  void lateEventWithinLatenessAddsOnlyTheNewPairsFlaggedLate() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.exposure("r3", T0),
        f.rating("r1", 5, 1, 5, T0 + 10),
        f.rating("r2", 2, 1, 5, T0 + 11));
    watermark(T0 + 11 + GAP);
    assertThat(order(pairs())).containsExactly("r1>r2");

    // Late: r3's rating happened before the session ended but arrives after it was final.
    FeedbackEvent late = f.rating("r3", 3, 1, 5, T0 + 12);
    send(late);
    List<PreferencePair> all = pairs();
    assertThat(order(all)).containsExactlyInAnyOrder("r1>r2", "r1>r3", "r3>r2");
    assertThat(all.subList(1, 3)).allMatch(p -> p.getFlags().contains(PairRules.LATE));
    assertThat(metrics().lateEvents()).isEqualTo(1);

    // The same late event again, and another late event that flips nothing new: no duplicates.
    send(late, f.rating("r2", 2, 1, 5, T0 + 13));
    assertThat(pairs()).hasSize(3);
  }

  @Test
  void lateStatedEventIsEmittedOnceWithTheLateFlag() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(f.exposure("r1", T0), f.exposure("r2", T0 + 1));
    watermark(T0 + 1 + GAP);
    FeedbackEvent choice = f.choice("r2", "r1", T0 + 5);
    send(choice, choice);

    assertThat(order(pairs())).containsExactly("r2>r1");
    assertThat(pairs().get(0).getFlags()).containsExactly(PairRules.LATE);
  }

  @Test
  void eventBeyondAllowedLatenessGoesToTheDeadLetterTopic() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(f.exposure("r1", T0), f.exposure("r2", T0 + 1));
    watermark(T0 + 1 + GAP + LATENESS);
    assertClosed();
    // Had it come in time, this event would have kept the interaction open until T0+2+GAP+LATENESS.
    watermark(T0 + 2 + GAP + LATENESS);

    send(f.choice("r1", "r2", T0 + 2));
    assertThat(pairs()).isEmpty();
    assertThat(metrics().lateDroppedEvents()).isEqualTo(1);
    assertThat(deadLetters())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.getField()).isEqualTo("occurred_at");
              assertThat(d.getReason()).startsWith("late:");
              assertThat(d.getSourceId()).isEqualTo("t1/i-1-e2");
            });
    assertClosed();
  }

  @Test
  void aNewSessionOfAFinalInteractionRevisesAThumbPairTheUserReversed() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.thumb("r1", true, T0 + 1),
        f.thumb("r2", false, T0 + 2));
    watermark(T0 + 2 + GAP);
    assertThat(order(pairs())).containsExactly("r1>r2");

    // The user comes back after the gap and changes their mind: not late, a new session; the
    // thumb pair of r1 and r2 is emitted the other way round, flagged as revising the first.
    send(f.thumb("r1", false, T0 + 2 + GAP + 1000), f.thumb("r2", true, T0 + 2 + GAP + 1001));
    watermark(T0 + 2 + GAP + 1001 + GAP);
    assertThat(order(pairs())).containsExactly("r1>r2", "r2>r1");
    assertThat(pairs().get(1).getFlags()).contains(PairRules.REVISES);
    assertThat(pairs().get(1).getRevises()).isEqualTo(pairs().get(0).getPairId());
    assertThat(metrics().lateEvents()).isZero();
    watermark(T0 + 2 + GAP + 1001 + GAP + LATENESS);
    assertClosed();
  }

  @Test
  void stateAndTimersReturnToZeroAfterTheInteractionCloses() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    Feedback g = new Feedback("i-2");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.choice("r1", "r2", T0 + 1),
        f.rating("r1", 4, 1, 5, T0 + 2),
        f.signal("r2", ImplicitKind.DWELL, 3, T0 + 3),
        g.labeled("a", "b", 1.0, T0 + 4));
    assertThat(harness.numEventTimeTimers()).isEqualTo(2);
    assertThat(harness.numKeyedStateEntries()).as("one entry per interaction").isEqualTo(2);

    watermark(T0 + 4 + GAP);
    assertThat(harness.numEventTimeTimers()).as("cleanup timers").isEqualTo(2);
    watermark(T0 + 4 + GAP + LATENESS);
    assertClosed();
    assertThat(deadLetters()).isEmpty();
  }

  @Test
  void signalsWhoseResponseIsNeverExposedBecomeDeadLettersWhenTheInteractionCloses()
      throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.choice("r1", "r9", T0 + 1),
        f.rating("r8", 4, 1, 5, T0 + 2),
        f.rating("r1", 4, 1, 5, T0 + 3));
    watermark(T0 + 3 + GAP + LATENESS);

    assertThat(pairs()).isEmpty();
    assertThat(deadLetters())
        .extracting(DeadLetter::getField)
        .containsExactlyInAnyOrder("pairwise_choice", "rating.response_id");
    assertThat(deadLetters()).allMatch(d -> d.getReason().contains("never exposed"));
    assertClosed();
  }

  @Test
  void anInteractionWhoseWatermarkNeverComesIsDecidedAndClosedAtItsTtl() throws Exception {
    open(PairSemantics.from(Settings.of(Map.of("pairs.state-ttl", "1h"))));
    harness.setProcessingTime(1_000);
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.rating("r1", 5, 1, 5, T0 + 1),
        f.rating("r2", 1, 1, 5, T0 + 2),
        f.rating("r9", 3, 1, 5, T0 + 3));
    assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);

    harness.setProcessingTime(1_000 + 3_600_000);
    assertThat(order(pairs())).containsExactly("r1>r2");
    assertThat(deadLetters())
        .singleElement()
        .satisfies(d -> assertThat(d.getReason()).contains("expired"));
    assertThat(metrics().expiredInteractions()).isEqualTo(1);
    assertClosed();
  }

  @Test
  void identicalTextsMakeNoPair() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", "same text", T0),
        f.exposure("r2", "same text", T0),
        f.choice("r1", "r2", T0 + 1));
    assertThat(pairs()).isEmpty();
    assertThat(metrics().droppedPairs(Drop.IDENTICAL_TEXTS)).isEqualTo(1);
  }

  @Test
  void contradictoryLabelsFromOneAnnotatorAreFlagged() throws Exception {
    open();
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.exposure("r3", T0),
        f.choice("r1", "r2", 1.0, "ann-1", T0 + 1),
        f.choice("r2", "r1", 1.0, "ann-2", T0 + 2),
        f.choice("r2", "r1", 1.0, "ann-1", T0 + 3));

    List<PreferencePair> pairs = pairs();
    assertThat(pairs).hasSize(3);
    assertThat(pairs.get(0).getFlags()).isEmpty();
    assertThat(pairs.get(1).getFlags()).as("another annotator may disagree").isEmpty();
    assertThat(pairs.get(2).getFlags()).containsExactly(PairRules.CONTRADICTS_SAME_ANNOTATOR);
    assertThat(metrics().contradictions()).isEqualTo(1);
  }

  @Test
  void tooManyEventsInOneInteractionAreDeadLetters() throws Exception {
    open(PairSemantics.from(Settings.of(Map.of("pairs.max-events-per-interaction", "3"))));
    Feedback f = new Feedback("i-1");
    send(
        f.exposure("r1", T0),
        f.exposure("r2", T0),
        f.rating("r1", 4, 1, 5, T0),
        f.rating("r2", 2, 1, 5, T0));
    assertThat(deadLetters())
        .singleElement()
        .satisfies(d -> assertThat(d.getField()).isEqualTo("interaction_id"));
  }

  @Test
  void pairIdsAreDeterministicAndHoldoutIsAStableShareOfInteractions() throws Exception {
    List<String> first = runMany();
    close();
    List<String> second = runMany();
    assertThat(second).isEqualTo(first);

    long holdout =
        harness.extractOutputValues().stream().filter(p -> p.getSplit() == Split.HOLDOUT).count();
    // 2000 interactions, one pair each, 5% expected: 100 +- 4.5 sigma
    assertThat(holdout).isBetween(60L, 140L);
  }

  private List<String> runMany() throws Exception {
    open();
    for (int i = 0; i < 2000; i++) {
      Feedback f = new Feedback("i-" + i);
      send(f.exposure("r1", T0), f.exposure("r2", T0), f.choice("r1", "r2", T0));
    }
    return pairs().stream().map(PreferencePair::getPairId).toList();
  }
}
