package io.prefstream.launcher.demo;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.prefstream.schemas.JsonForm;
import java.util.List;
import java.util.Map;

/**
 * What a demo run did, as its last line and {@code --summary} file say it: the contract of
 * DESIGN.md ({@code events.{accepted,rejected,duplicate}}, {@code
 * pairs.{by_source,trained,holdout}}, {@code checkpoints}, {@code
 * accuracy.{prequential,holdout,true_preference}}, {@code rollouts.{promoted,rolled_back,reasons}},
 * {@code drift_alerts}, {@code lost.{events,pairs}}) and the rest of the run's figures, serialized
 * by Jackson in this order with snake_case names. Parts that only some runs have ({@code dataset},
 * {@code poisoned_checkpoint}, {@code bad_input}) are left out when null.
 *
 * @param demo always {@code pairs}: what the demo is about
 * @param dataset the replayed file, null for the simulated product
 * @param poisonedCheckpoint the poisoned-checkpoint scenario's figures, null in the others
 * @param badInput the bad-input scenario's garbage requests, null in the others
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonPropertyOrder({
  "demo",
  "scenario",
  "dataset",
  "events",
  "pairs",
  "checkpoints",
  "accuracy",
  "model",
  "rollouts",
  "poisoned_checkpoint",
  "serving",
  "drift_alerts",
  "dead_letters",
  "bad_input",
  "dead_letters_by_source",
  "kafka",
  "lost",
  "seconds"
})
public record DemoSummary(
    String demo,
    String scenario,
    @JsonInclude(JsonInclude.Include.NON_NULL) String dataset,
    Events events,
    Pairs pairs,
    long checkpoints,
    Accuracy accuracy,
    String model,
    Rollouts rollouts,
    @JsonInclude(JsonInclude.Include.NON_NULL) Poisoned poisonedCheckpoint,
    Serving serving,
    List<DriftAlert> driftAlerts,
    long deadLetters,
    @JsonInclude(JsonInclude.Include.NON_NULL) Map<String, Long> badInput,
    Map<String, Long> deadLettersBySource,
    InKafka kafka,
    Lost lost,
    double seconds) {

  /** The JSON line. */
  public String toJson() {
    try {
      return JsonForm.mapper().writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a demo summary is always JSON", e);
    }
  }

  /**
   * A figure rounded to 4 decimals, written as {@code null} when it is not finite (no model, no
   * pairs to judge).
   */
  public record Figure(@JsonValue Double value) {
    public static Figure of(double value) {
      return new Figure(Double.isFinite(value) ? Math.round(value * 10000) / 10000.0 : null);
    }
  }

  /**
   * Events sent by the product (and the resent ones) and how ingest answered them.
   *
   * @param malformedSent events the product malformed on purpose
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonPropertyOrder({"sent", "accepted", "rejected", "duplicate", "malformed_sent"})
  public record Events(
      long sent, long accepted, long rejected, long duplicate, long malformedSent) {}

  /**
   * The pairs the stream made, by source, how many the trainer trained, and how many revised an
   * earlier explicit pair (flag REVISES: what emitting rating and thumb pairs early cost).
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonPropertyOrder({"by_source", "total", "holdout", "trained", "revised"})
  public record Pairs(
      Map<String, Long> bySource, long total, long holdout, long trained, long revised) {}

  /**
   * The final model's accuracy.
   *
   * @param truePreference agreement with the simulated users' true utility (null on real data)
   * @param heldBackChosenFirst a replayed dataset's held-back pairs ranked right by the scorer;
   *     left out for the simulated product
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonPropertyOrder({"prequential", "holdout", "true_preference", "held_back_chosen_first"})
  public record Accuracy(
      Figure prequential,
      Figure holdout,
      Figure truePreference,
      @JsonInclude(JsonInclude.Include.NON_NULL) Figure heldBackChosenFirst) {}

  /** The rollout decisions of the demo's tenant and where its rollout stands. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonPropertyOrder({"reasons", "promoted", "rolled_back", "champion", "candidate", "phase"})
  public record Rollouts(
      List<String> reasons,
      long promoted,
      long rolledBack,
      long champion,
      long candidate,
      String phase) {}

  /**
   * Best-of-N as the product got it: over HTTP on fresh simulated interactions (judged by the
   * users' true utility), or on a replayed dataset's held-back pairs; each figure is left out when
   * the run has none.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({
    "best_of_n_requests",
    "version",
    "best_of_n_truly_best",
    "best_of_n_by_chance",
    "held_back_pairs_ranked",
    "held_back_chosen_ranked_first",
    "live_best_of_n_requests"
  })
  public record Serving(
      @JsonProperty("best_of_n_requests") Integer bestOfNRequests,
      Long version,
      @JsonProperty("best_of_n_truly_best") Double bestOfNTrulyBest,
      @JsonProperty("best_of_n_by_chance") Double bestOfNByChance,
      Integer heldBackPairsRanked,
      Double heldBackChosenRankedFirst,
      @JsonProperty("live_best_of_n_requests") Long liveBestOfNRequests) {

    /** Nothing served yet (a replay before its held-back pairs are judged). */
    public static Serving none() {
      return new Serving(null, null, null, null, null, null, null);
    }

    public Serving withHeldBack(int ranked, Double chosenRankedFirst) {
      return new Serving(
          bestOfNRequests,
          version,
          bestOfNTrulyBest,
          bestOfNByChance,
          ranked,
          chosenRankedFirst,
          liveBestOfNRequests);
    }

    public Serving withLive(long requests) {
      return new Serving(
          bestOfNRequests,
          version,
          bestOfNTrulyBest,
          bestOfNByChance,
          heldBackPairsRanked,
          heldBackChosenRankedFirst,
          requests);
    }
  }

  /** A drift report at WARN or ALERT when the demo ended. */
  @JsonPropertyOrder({"metric", "value", "threshold", "level", "at"})
  public record DriftAlert(
      String metric, double value, double threshold, String level, String at) {}

  /**
   * The poisoned checkpoint's story: when it was published, what the canary decided and on what
   * evidence, the largest traffic share it got; decision figures are left out while undecided.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({
    "version",
    "failure",
    "trained_on_flipped_pairs",
    "passed_over_versions",
    "holdout_accuracy",
    "published_at_s",
    "max_traffic_share",
    "served_best_of_n",
    "outcome",
    "reason",
    "decided_after_s",
    "evidence_pairs",
    "candidate_accuracy",
    "champion_accuracy",
    "p_value"
  })
  public record Poisoned(
      long version,
      String failure,
      int trainedOnFlippedPairs,
      List<Long> passedOverVersions,
      @JsonInclude(JsonInclude.Include.ALWAYS) Figure holdoutAccuracy,
      Double publishedAtS,
      double maxTrafficShare,
      long servedBestOfN,
      String outcome,
      String reason,
      Double decidedAfterS,
      Long evidencePairs,
      Figure candidateAccuracy,
      Figure championAccuracy,
      Double pValue) {}

  /** What Kafka holds of the accepted events, read back read-committed. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonPropertyOrder({"feedback_records", "distinct_event_ids"})
  public record InKafka(long feedbackRecords, long distinctEventIds) {}

  /** Accepted events not in Kafka, and TRAIN pairs not trained: both 0 in every good run. */
  @JsonPropertyOrder({"events", "pairs"})
  public record Lost(long events, long pairs) {}
}
