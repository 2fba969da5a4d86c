package io.prefstream.schemas;

import io.prefstream.avro.AlertLevel;
import io.prefstream.avro.Annotator;
import io.prefstream.avro.AnnotatorKind;
import io.prefstream.avro.Arm;
import io.prefstream.avro.CheckpointFile;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.DriftReport;
import io.prefstream.avro.Histogram;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.RolloutAction;
import io.prefstream.avro.RolloutDecision;
import io.prefstream.avro.RolloutEvidence;
import io.prefstream.avro.RolloutPhase;
import io.prefstream.avro.RolloutState;
import io.prefstream.avro.ScoreRecord;
import io.prefstream.avro.SourceKind;
import io.prefstream.avro.Split;
import io.prefstream.avro.TopicPartitionOffset;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/** A fully populated instance of every top-level record, for round-trip tests. */
final class RecordSamples {

  static final Instant T0 = Instant.parse("2026-11-23T10:00:00.123Z");

  private RecordSamples() {}

  static List<SpecificRecord> all() {
    List<SpecificRecord> all = new ArrayList<>(Examples.oneOfEachPayload("demo", "i-1", T0));
    all.add(pair());
    all.add(deadLetter());
    all.add(checkpoint());
    all.add(rollout());
    all.add(score());
    all.add(drift());
    return all;
  }

  static PreferencePair pair() {
    return PreferencePair.newBuilder()
        .setPairId("p-1f3a")
        .setTenantId("demo")
        .setPrompt("Name a prime.")
        .setChosen("7")
        .setRejected("8")
        .setWeight(0.5)
        .setMargin(0.25)
        .setSplit(Split.HOLDOUT)
        .setSource(SourceKind.RATING)
        .setInteractionId("i-1")
        .setChosenResponseId("r-1")
        .setRejectedResponseId("r-2")
        .setEventIds(List.of("e-1", "e-2"))
        .setAnnotator(new Annotator("a-1", AnnotatorKind.AI, 0.7))
        .setCriterion("correctness")
        .setEventTime(T0)
        .setFlags(List.of("LATE"))
        .build();
  }

  static DeadLetter deadLetter() {
    return DeadLetter.newBuilder()
        .setRaw(ByteBuffer.wrap("{\"event_id\": 3".getBytes(StandardCharsets.UTF_8)))
        .setReason("malformed JSON")
        .setField("$")
        .setSource("ingest")
        .setSourceId("req-9")
        .setTenantId("demo")
        .setTime(T0)
        .build();
  }

  static CheckpointPublished checkpoint() {
    return CheckpointPublished.newBuilder()
        .setTenantId("demo")
        .setModel("reward")
        .setVersion(3)
        .setParentVersion(2L)
        .setModelType("ngram-mlp")
        .setUri("file:///tmp/store/demo/reward/3")
        .setManifestSha256("a".repeat(64))
        .setFiles(List.of(new CheckpointFile("params.bin", "b".repeat(64), 1024L)))
        .setMetrics(Map.of("holdout_accuracy", 0.71, "loss", Double.NaN))
        .setRewardMean(0.1)
        .setRewardStd(0.9)
        .setReferenceHistogram(new Histogram(List.of(-1.0, 0.0, 1.0), List.of(4L, 6L)))
        .setOffsets(List.of(new TopicPartitionOffset("prefstream.pairs", 0, 42L)))
        .setPairsSeen(420)
        .setPublishedAt(T0)
        .build();
  }

  static RolloutState rollout() {
    RolloutDecision decision =
        RolloutDecision.newBuilder()
            .setAt(T0)
            .setAction(RolloutAction.STEP)
            .setVersion(3)
            .setWeight(0.05)
            .setReason("not worse: 0.71 vs 0.70 on 400 pairs")
            .setEvidence(
                RolloutEvidence.newBuilder()
                    .setPairs(400)
                    .setCandidateAccuracy(0.71)
                    .setChampionAccuracy(0.70)
                    .setPValue(0.4)
                    .setOther(Map.of("psi", 0.02))
                    .build())
            .build();
    return RolloutState.newBuilder()
        .setTenantId("demo")
        .setModel("reward")
        .setChampionVersion(2L)
        .setCandidateVersion(3L)
        .setPhase(RolloutPhase.CANARY)
        .setCandidateWeight(0.05)
        .setStep(1)
        .setHistory(List.of(decision))
        .setUpdatedAt(T0)
        .build();
  }

  static ScoreRecord score() {
    return ScoreRecord.newBuilder()
        .setTenantId("demo")
        .setModel("reward")
        .setVersion(3)
        .setArm(Arm.CANDIDATE)
        .setScore(1.25)
        .setRawScore(-0.5)
        .setPromptChars(40)
        .setResponseChars(400)
        .setResponseTokens(90)
        .setScript("LATIN")
        .setRequestId("q-1")
        .setAt(T0)
        .build();
  }

  static DriftReport drift() {
    return DriftReport.newBuilder()
        .setTenantId("demo")
        .setModel("reward")
        .setVersion(3L)
        .setMetric("score_psi")
        .setWindowStart(T0)
        .setWindowEnd(T0.plusSeconds(60))
        .setValue(0.3)
        .setWarnThreshold(0.1)
        .setAlertThreshold(0.25)
        .setLevel(AlertLevel.ALERT)
        .setSampleSize(500)
        .setDetails(Map.of("ks", 0.2))
        .setAt(T0.plusSeconds(61))
        .build();
  }
}
