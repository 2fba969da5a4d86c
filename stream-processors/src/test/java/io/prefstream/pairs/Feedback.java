package io.prefstream.pairs;

import io.prefstream.avro.Annotator;
import io.prefstream.avro.AnnotatorKind;
import io.prefstream.avro.Exposure;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.ImplicitKind;
import io.prefstream.avro.ImplicitSignal;
import io.prefstream.avro.LabeledPair;
import io.prefstream.avro.PairwiseChoice;
import io.prefstream.avro.Ranking;
import io.prefstream.avro.Rating;
import io.prefstream.avro.Thumb;
import java.time.Instant;
import java.util.List;

/** Scripted feedback of one interaction, with event ids {@code <interaction>-e<n>}. */
final class Feedback {

  static final String TENANT = "t1";
  static final String PROMPT = "How do I sort a list in Java?";
  static final long T0 = Instant.parse("2026-11-23T10:00:00Z").toEpochMilli();

  private final String interaction;
  private int n;

  Feedback(String interaction) {
    this.interaction = interaction;
  }

  String interaction() {
    return interaction;
  }

  String key() {
    return TENANT + "/" + interaction;
  }

  /** The next event id this script will use. */
  String nextEventId() {
    return interaction + "-e" + n;
  }

  FeedbackEvent exposure(String responseId, String text, long at) {
    return event(
        at,
        Exposure.newBuilder()
            .setResponseId(responseId)
            .setPrompt(PROMPT)
            .setResponse(text)
            .setPosition(0)
            .build());
  }

  FeedbackEvent exposure(String responseId, long at) {
    return exposure(responseId, "answer " + responseId, at);
  }

  FeedbackEvent choice(String chosen, String rejected, long at) {
    return choice(chosen, rejected, 1.0, null, at);
  }

  FeedbackEvent choice(String chosen, String rejected, double strength, String annotator, long at) {
    return event(
        at,
        PairwiseChoice.newBuilder()
            .setChosenResponseId(chosen)
            .setRejectedResponseId(rejected)
            .setStrength(strength)
            .setAnnotator(annotator == null ? null : human(annotator, 1.0))
            .build());
  }

  FeedbackEvent tie(String a, String b, long at) {
    return event(
        at,
        PairwiseChoice.newBuilder()
            .setChosenResponseId(a)
            .setRejectedResponseId(b)
            .setTie(true)
            .build());
  }

  FeedbackEvent ranking(long at, List<String> best) {
    return event(at, Ranking.newBuilder().setResponseIds(best).build());
  }

  FeedbackEvent rating(String responseId, double value, double min, double max, long at) {
    return event(
        at,
        Rating.newBuilder()
            .setResponseId(responseId)
            .setValue(value)
            .setScaleMin(min)
            .setScaleMax(max)
            .build());
  }

  /** A rating by annotator {@code annotator} on the 1-5 scale. */
  FeedbackEvent rating(String responseId, double value, String annotator, long at) {
    return event(
        at,
        Rating.newBuilder()
            .setResponseId(responseId)
            .setValue(value)
            .setAnnotator(human(annotator, 1.0))
            .build());
  }

  FeedbackEvent thumb(String responseId, boolean up, long at) {
    return event(at, Thumb.newBuilder().setResponseId(responseId).setUp(up).build());
  }

  FeedbackEvent signal(String responseId, ImplicitKind kind, double value, long at) {
    return event(
        at,
        ImplicitSignal.newBuilder()
            .setResponseId(responseId)
            .setKind(kind)
            .setValue(value)
            .build());
  }

  FeedbackEvent labeled(String chosen, String rejected, double confidence, long at) {
    return event(
        at,
        LabeledPair.newBuilder()
            .setPrompt(PROMPT)
            .setChosen(chosen)
            .setRejected(rejected)
            .setConfidence(confidence)
            .setAnnotator(human("a1", 1.0))
            .build());
  }

  static Annotator human(String id, double confidence) {
    return new Annotator(id, AnnotatorKind.HUMAN, confidence);
  }

  FeedbackEvent event(long at, Object payload) {
    return FeedbackEvent.newBuilder()
        .setEventId(interaction + "-e" + n++)
        .setTenantId(TENANT)
        .setOccurredAt(Instant.ofEpochMilli(at))
        .setReceivedAt(Instant.ofEpochMilli(at))
        .setInteractionId(interaction)
        .setUserId("u1")
        .setPayload(payload)
        .build();
  }

  /** A copy of an event under a new id (a client retrying with a fresh id). */
  static FeedbackEvent withId(FeedbackEvent e, String eventId) {
    return FeedbackEvent.newBuilder(e).setEventId(eventId).build();
  }
}
