package io.prefstream.schemas;

import io.prefstream.avro.Annotator;
import io.prefstream.avro.AnnotatorKind;
import io.prefstream.avro.Exposure;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.GenerationParams;
import io.prefstream.avro.ImplicitKind;
import io.prefstream.avro.ImplicitSignal;
import io.prefstream.avro.LabeledPair;
import io.prefstream.avro.PairwiseChoice;
import io.prefstream.avro.Ranking;
import io.prefstream.avro.Rating;
import io.prefstream.avro.Thumb;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/** One realistic feedback event of each payload type, for the demo, smoke checks and tests. */
public final class Examples {

  private Examples() {}

  /**
   * Seven events of one chat interaction: an exposure, then a rating, thumb, pairwise choice,
   * ranking, implicit signal and labeled pair, one second apart from {@code start}.
   */
  public static List<FeedbackEvent> oneOfEachPayload(
      String tenant, String interaction, Instant start) {
    String prompt = "How do I reverse a list in Python?";
    Annotator user = new Annotator("u-42", AnnotatorKind.END_USER, 0.8);
    Annotator labeler = new Annotator("labeler-7", AnnotatorKind.HUMAN, 0.95);
    List<Object> payloads =
        List.of(
            Exposure.newBuilder()
                .setResponseId(interaction + "-r1")
                .setPrompt(prompt)
                .setResponse("Use `my_list.reverse()` in place, or `my_list[::-1]` for a copy.")
                .setPolicy("m-7")
                .setPosition(0)
                .setGeneration(
                    GenerationParams.newBuilder()
                        .setTemperature(0.7)
                        .setTopP(0.95)
                        .setMaxTokens(512)
                        .setOther(Map.of("stop", "\\n\\n"))
                        .build())
                .build(),
            Rating.newBuilder()
                .setResponseId(interaction + "-r1")
                .setValue(4.0)
                .setAnnotator(labeler)
                .setCriterion("helpfulness")
                .build(),
            Thumb.newBuilder()
                .setResponseId(interaction + "-r2")
                .setUp(false)
                .setAnnotator(user)
                .build(),
            PairwiseChoice.newBuilder()
                .setChosenResponseId(interaction + "-r1")
                .setRejectedResponseId(interaction + "-r2")
                .setStrength(0.9)
                .setAnnotator(user)
                .build(),
            Ranking.newBuilder()
                .setResponseIds(
                    List.of(interaction + "-r1", interaction + "-r3", interaction + "-r2"))
                .setAnnotator(labeler)
                .build(),
            ImplicitSignal.newBuilder()
                .setResponseId(interaction + "-r1")
                .setKind(ImplicitKind.COPY)
                .setValue(1.0)
                .build(),
            LabeledPair.newBuilder()
                .setPrompt(prompt)
                .setChosen("`reversed(xs)` gives an iterator; `xs[::-1]` gives a reversed copy.")
                .setRejected("Python lists cannot be reversed.")
                .setAnnotator(labeler)
                .setConfidence(0.9)
                .build());
    return IntStream.range(0, payloads.size())
        .mapToObj(
            i ->
                FeedbackEvent.newBuilder()
                    .setEventId(interaction + "-e" + (i + 1))
                    .setTenantId(tenant)
                    .setOccurredAt(start.plusSeconds(i))
                    .setApp("chat")
                    .setUserId("u-42")
                    .setSessionId("s-" + interaction)
                    .setInteractionId(interaction)
                    .setPayload(payloads.get(i))
                    .build())
        .toList();
  }
}
