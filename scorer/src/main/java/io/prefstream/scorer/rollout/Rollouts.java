package io.prefstream.scorer.rollout;

import io.prefstream.avro.RolloutAction;
import io.prefstream.avro.RolloutDecision;
import io.prefstream.avro.RolloutEvidence;
import io.prefstream.avro.RolloutPhase;
import io.prefstream.avro.RolloutState;
import io.prefstream.schemas.RecordTypes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The rollout state machine as pure functions of a {@link RolloutState}: what the controller and
 * the manual commands write on {@code prefstream.rollouts}. Every transition appends a decision
 * with its reason, evidence and actor; the history keeps the last {@link #HISTORY} decisions.
 */
public final class Rollouts {

  public static final int HISTORY = 200;
  public static final String CONTROLLER = "controller";

  /** Prefix of the evidence entries that record where in each pairs partition a step began. */
  public static final String OFFSET = "pairs_offset.";

  /**
   * Evidence entry of a CANDIDATE decision that replaced the candidate at the first step (the arm
   * follows the trainer): the version it replaced.
   */
  public static final String FOLLOWS = "follows";

  static {
    RecordTypes.ALL.size(); // trusts the generated classes, which copying a state instantiates
  }

  private Rollouts() {}

  /** What analysis says of a candidate at its current step. */
  public enum Verdict {
    WAIT,
    STEP,
    ROLLBACK
  }

  /** A verdict with its reason and evidence. */
  public record Judgement(Verdict verdict, String reason, RolloutEvidence evidence) {}

  /**
   * Judges a candidate from the evidence of every fresh pair since it was published ({@code total})
   * and the fresh pairs that arrived during its current step ({@code stepPairs}): sanity first
   * (non-finite scores, collapsed spread, distribution shift with harm), then the always-valid
   * bounds: the upper below 0 rolls back, the lower at or above −tolerance (non-inferiority) takes
   * the next step once the step has had its {@code min-pairs}; a step without either after {@code
   * max-pairs} is rolled back as inconclusive.
   */
  public static Judgement judge(CanaryEvidence total, long stepPairs, RolloutPolicy policy) {
    return judge(total, null, stepPairs, policy);
  }

  /**
   * Judges a candidate whose arm follows the trainer: {@code own} is the evidence of the version
   * serving the arm now, on the pairs fresh for it; {@code arm} (null when the arm has had one
   * version) that of all the versions the arm has served, each pair judged by the newest version it
   * is fresh for. The serving version's own evidence rolls it back (sanity, significantly worse,
   * shift with harm), and so does the arm's when its versions together are significantly worse; the
   * step is taken, and {@code max-pairs} counted, on the arm's evidence. The bounds on the arm stay
   * valid although its version changes: they bound the running average of the conditional mean
   * differences (Waudby-Smith and Ramdas 2023), whatever version each pair met.
   */
  public static Judgement judge(
      CanaryEvidence own, CanaryEvidence arm, long stepPairs, RolloutPolicy policy) {
    CanaryEvidence total = own;
    CanaryEvidence steps = arm == null ? own : arm;
    RolloutEvidence evidence = evidence(total, arm, stepPairs, policy.tolerance());
    if (total.nonFinite() > 0) {
      return new Judgement(
          Verdict.ROLLBACK,
          String.format(
              "sanity: %d of %d scores on fresh responses are not finite",
              total.nonFinite(), total.scores()),
          evidence);
    }
    double spread = total.scoreSpread();
    if (total.scores() >= 20 && !(spread >= policy.minScoreSpread())) {
      return new Judgement(
          Verdict.ROLLBACK,
          String.format(
              Locale.ROOT,
              "sanity: scores collapsed, standard deviation %.3g on %d fresh responses (at least"
                  + " %.3g expected)",
              spread,
              total.scores(),
              policy.minScoreSpread()),
          evidence);
    }
    // Significantly worse than the champion: the always-valid upper bound on the accuracy
    // difference is below 0. The controller looks after every batch of pairs; a repeated z-test's
    // error would grow with each look, this bound's holds at all of them.
    if (total.upperBound() < 0) {
      return new Judgement(
          Verdict.ROLLBACK,
          String.format(
              Locale.ROOT,
              "significantly worse: accuracy %.3f against the champion's %.3f on the same %s;"
                  + " the difference lies in [%+.3f, %+.3f], below 0 (always-valid %.0f%%"
                  + " confidence sequence)",
              total.candidateAccuracy(),
              total.championAccuracy(),
              pairsText(total, stepPairs),
              total.lowerBound(),
              total.upperBound(),
              100 * (1 - policy.alpha())),
          evidence);
    }
    if (arm != null && arm.upperBound() < 0) {
      return new Judgement(
          Verdict.ROLLBACK,
          String.format(
              Locale.ROOT,
              "significantly worse: the arm's versions together, accuracy %.3f against the"
                  + " champion's %.3f on the same %s; the difference lies in [%+.3f, %+.3f], below"
                  + " 0 (always-valid %.0f%% confidence sequence)",
              arm.candidateAccuracy(),
              arm.championAccuracy(),
              pairsText(arm, stepPairs),
              arm.lowerBound(),
              arm.upperBound(),
              100 * (1 - policy.alpha())),
          evidence);
    }
    double psi = total.psi();
    boolean harm =
        total.difference() < -policy.tolerance() && total.upperBound() < policy.tolerance();
    if (total.pairs() >= policy.minPairs() && psi > policy.maxPsi() && harm) {
      return new Judgement(
          Verdict.ROLLBACK,
          String.format(
              Locale.ROOT,
              "sanity: normalised score distribution shifted against the champion's, PSI %.3f >"
                  + " %.3f, and the candidate is worse: accuracy %.3f against %.3f on %s,"
                  + " difference in [%+.3f, %+.3f], below +%.3f",
              psi,
              policy.maxPsi(),
              total.candidateAccuracy(),
              total.championAccuracy(),
              pairsText(total, stepPairs),
              total.lowerBound(),
              total.upperBound(),
              policy.tolerance()),
          evidence);
    }
    // Non-inferiority: the always-valid lower bound on the difference at or above −tolerance,
    // shown on every fresh pair so far (the bounds only tighten, so a later step needs only its
    // dwell of min-pairs); the step's traffic share is taken only then. A following arm steps on
    // its versions' evidence together, and the version serving it then is the one that steps.
    if (stepPairs >= policy.minPairs() && steps.lowerBound() >= -policy.tolerance()) {
      return new Judgement(
          Verdict.STEP,
          String.format(
              Locale.ROOT,
              "non-inferior within the tolerance: %saccuracy %.3f against the champion's %.3f on"
                  + " %s; the difference lies in [%+.3f, %+.3f], above −%.3f (always-valid %.0f%%"
                  + " confidence sequence)%s",
              arm == null ? "" : "the arm's versions together, ",
              steps.candidateAccuracy(),
              steps.championAccuracy(),
              pairsText(steps, stepPairs),
              steps.lowerBound(),
              steps.upperBound(),
              policy.tolerance(),
              100 * (1 - policy.alpha()),
              psi > policy.maxPsi()
                  ? String.format(
                      Locale.ROOT,
                      "; scores shifted (PSI %.3f > %.3f), accuracy not worse: a change, not harm",
                      psi,
                      policy.maxPsi())
                  : ""),
          evidence);
    }
    if (stepPairs >= policy.maxPairs()) {
      return new Judgement(
          Verdict.ROLLBACK,
          String.format(
              Locale.ROOT,
              "inconclusive: after %s the difference lies in [%+.3f, %+.3f], neither shown above"
                  + " −%.3f nor below 0",
              pairsText(steps, stepPairs),
              steps.lowerBound(),
              steps.upperBound(),
              policy.tolerance()),
          evidence);
    }
    return new Judgement(Verdict.WAIT, "collecting fresh pairs", evidence);
  }

  private static String pairsText(CanaryEvidence e, long stepPairs) {
    return String.format(
        Locale.ROOT,
        "%d fresh pairs (%d TRAIN, %d HOLDOUT; %d this step)",
        e.pairs(),
        e.trainPairs(),
        e.holdoutPairs(),
        stepPairs);
  }

  private static RolloutEvidence evidence(
      CanaryEvidence e, CanaryEvidence arm, long stepPairs, double tolerance) {
    Map<String, Double> other = new HashMap<>();
    if (arm != null) {
      other.put("arm_pairs", (double) arm.pairs());
      other.put("arm_candidate_accuracy", finiteOr(arm.candidateAccuracy()));
      other.put("arm_champion_accuracy", finiteOr(arm.championAccuracy()));
      other.put("arm_difference_lower", arm.lowerBound());
      other.put("arm_difference_upper", arm.upperBound());
    }
    other.put("step_pairs", (double) stepPairs);
    other.put("train_pairs", (double) e.trainPairs());
    other.put("holdout_pairs", (double) e.holdoutPairs());
    other.put("score_spread", finiteOr(e.scoreSpread()));
    other.put("psi", e.psi());
    other.put("non_finite_scores", (double) e.nonFinite());
    other.put("difference_lower", e.lowerBound());
    other.put("difference_upper", e.upperBound());
    return RolloutEvidence.newBuilder()
        .setPairs(e.pairs())
        .setCandidateAccuracy(finiteOr(e.candidateAccuracy()))
        .setChampionAccuracy(finiteOr(e.championAccuracy()))
        .setPValue(null) // the always-valid bounds replace the fixed-sample p-value
        .setOther(other)
        .build();
  }

  private static double finiteOr(double v) {
    return Double.isFinite(v) ? v : -1;
  }

  /** The first checkpoint of a model becomes champion at once: there is nothing to compare. */
  public static RolloutState firstChampion(String tenant, String model, long version, Instant now) {
    RolloutState s = empty(tenant, model, now);
    s.setChampionVersion(version);
    return append(
        s,
        RolloutAction.PROMOTE,
        version,
        1,
        "first checkpoint: no champion to compare",
        CONTROLLER,
        null,
        now);
  }

  /**
   * {@code version} becomes the candidate at the first step; {@code startOffsets} (next offset of
   * each pairs partition) mark which pairs are fresh.
   */
  public static RolloutState candidate(
      RolloutState current,
      long version,
      RolloutPolicy policy,
      Map<Integer, Long> startOffsets,
      Instant now) {
    RolloutState s = copy(current, now);
    double weight = policy.steps().get(0);
    s.setCandidateVersion(version);
    s.setStep(0);
    s.setCandidateWeight(weight);
    s.setPhase(weight == 0 ? RolloutPhase.SHADOW : RolloutPhase.CANARY);
    return append(
        s,
        RolloutAction.CANDIDATE,
        version,
        weight,
        "new checkpoint v" + version + " against champion v" + current.getChampionVersion(),
        CONTROLLER,
        offsets(startOffsets),
        now);
  }

  /**
   * {@code version} (a newer checkpoint descending from the candidate) replaces the candidate on
   * its arm: the step goes on, its evidence with it; {@code startOffsets} mark which pairs are
   * fresh for the new version.
   */
  public static RolloutState follow(
      RolloutState current,
      long version,
      RolloutPolicy policy,
      Map<Integer, Long> startOffsets,
      Instant now) {
    Long previous = current.getCandidateVersion();
    if (previous == null || !policy.follows(current.getStep())) {
      throw new IllegalStateException(
          "no candidate that follows the trainer for "
              + current.getTenantId()
              + "/"
              + current.getModel()
              + " at step "
              + current.getStep()
              + " (the last step before promotion keeps its version)");
    }
    RolloutState s = copy(current, now);
    s.setCandidateVersion(version);
    RolloutEvidence evidence = offsets(startOffsets);
    evidence.getOther().put(FOLLOWS, (double) previous);
    return append(
        s,
        RolloutAction.CANDIDATE,
        version,
        current.getCandidateWeight(),
        "follows the trainer: v"
            + version
            + " descends from v"
            + previous
            + " and replaces it on the candidate's arm, against champion v"
            + current.getChampionVersion(),
        CONTROLLER,
        evidence,
        now);
  }

  /**
   * A checkpoint that cannot be taken (its digests or chain refuse to load), recorded while the
   * candidate in progress goes on, so that it is not offered again.
   */
  public static RolloutState refuse(
      RolloutState current, long version, String reason, Instant now) {
    RolloutState s = copy(current, now);
    return append(s, RolloutAction.ROLLBACK, version, 0, reason, CONTROLLER, null, now);
  }

  /**
   * The versions the candidate's arm has served, oldest first, each with where in each pairs
   * partition its fresh pairs begin: the candidate alone unless it followed earlier versions (only
   * those whose decisions the history still holds).
   */
  public static LinkedHashMap<Long, Map<Integer, Long>> lineage(RolloutState s) {
    LinkedList<Map.Entry<Long, Map<Integer, Long>>> members = new LinkedList<>();
    Long wanted = s.getCandidateVersion();
    List<RolloutDecision> history = s.getHistory();
    for (int i = history.size() - 1; i >= 0 && wanted != null; i--) {
      RolloutDecision d = history.get(i);
      if (d.getAction() != RolloutAction.CANDIDATE || d.getVersion() != wanted) {
        continue;
      }
      members.addFirst(Map.entry(d.getVersion(), offsetsOf(d)));
      Double follows = d.getEvidence() == null ? null : d.getEvidence().getOther().get(FOLLOWS);
      wanted = follows == null ? null : follows.longValue();
    }
    LinkedHashMap<Long, Map<Integer, Long>> out = new LinkedHashMap<>();
    members.forEach(e -> out.put(e.getKey(), e.getValue()));
    return out;
  }

  /** Whether the decision replaced the candidate on a following arm. */
  public static boolean isFollow(RolloutDecision d) {
    return d.getAction() == RolloutAction.CANDIDATE
        && d.getEvidence() != null
        && d.getEvidence().getOther().containsKey(FOLLOWS);
  }

  /** The next step, or promotion when the next step is the last (all traffic). */
  public static RolloutState step(
      RolloutState current,
      RolloutPolicy policy,
      Judgement judgement,
      Map<Integer, Long> stepOffsets,
      Instant now) {
    RolloutEvidence evidence = withOffsets(judgement.evidence(), stepOffsets);
    int next = current.getStep() + 1;
    if (next >= policy.steps().size() - 1) {
      return promote(current, judgement.reason(), CONTROLLER, evidence, now);
    }
    RolloutState s = copy(current, now);
    double weight = policy.steps().get(next);
    s.setStep(next);
    s.setCandidateWeight(weight);
    s.setPhase(weight == 0 ? RolloutPhase.SHADOW : RolloutPhase.CANARY);
    return append(
        s,
        RolloutAction.STEP,
        current.getCandidateVersion(),
        weight,
        judgement.reason(),
        CONTROLLER,
        evidence,
        now);
  }

  /** The candidate takes all traffic and becomes champion. */
  public static RolloutState promote(
      RolloutState current, String reason, String actor, RolloutEvidence evidence, Instant now) {
    Long version = current.getCandidateVersion();
    if (version == null) {
      throw new IllegalStateException(
          "no candidate to promote for " + current.getTenantId() + "/" + current.getModel());
    }
    RolloutState s = copy(current, now);
    s.setChampionVersion(version);
    clearCandidate(s);
    return append(s, RolloutAction.PROMOTE, version, 1, reason, actor, evidence, now);
  }

  /**
   * The candidate is dropped and the champion keeps all traffic; without a candidate, the champion
   * goes back to the version it replaced.
   */
  public static RolloutState rollback(
      RolloutState current, String reason, String actor, RolloutEvidence evidence, Instant now) {
    RolloutState s = copy(current, now);
    Long candidate = current.getCandidateVersion();
    if (candidate != null) {
      clearCandidate(s);
      return append(s, RolloutAction.ROLLBACK, candidate, 0, reason, actor, evidence, now);
    }
    Long champion = current.getChampionVersion();
    Long previous = previousChampion(current);
    if (champion == null || previous == null) {
      throw new IllegalStateException(
          "nothing to roll back for "
              + current.getTenantId()
              + "/"
              + current.getModel()
              + ": no candidate and no earlier champion");
    }
    s.setChampionVersion(previous);
    s.setPhase(RolloutPhase.PINNED); // else the controller would offer the newer version again
    return append(
        s,
        RolloutAction.ROLLBACK,
        champion,
        0,
        reason + " (champion back to v" + previous + ", pinned)",
        actor,
        evidence,
        now);
  }

  /** {@code version} serves all traffic and no rollout starts until unpinned. */
  public static RolloutState pin(
      RolloutState current, long version, String reason, String actor, Instant now) {
    RolloutState s = copy(current, now);
    s.setChampionVersion(version);
    clearCandidate(s);
    s.setPhase(RolloutPhase.PINNED);
    return append(s, RolloutAction.PIN, version, 1, reason, actor, null, now);
  }

  /** Rollouts resume: the newest checkpoint becomes the next candidate. */
  public static RolloutState unpin(RolloutState current, String reason, String actor, Instant now) {
    RolloutState s = copy(current, now);
    s.setPhase(RolloutPhase.IDLE);
    long version = current.getChampionVersion() == null ? 0 : current.getChampionVersion();
    return append(s, RolloutAction.UNPIN, version, 1, reason, actor, null, now);
  }

  /** The champion before the current one, from the history. */
  static Long previousChampion(RolloutState s) {
    Long current = s.getChampionVersion();
    List<RolloutDecision> history = s.getHistory();
    for (int i = history.size() - 1; i >= 0; i--) {
      RolloutDecision d = history.get(i);
      boolean served = d.getAction() == RolloutAction.PROMOTE || d.getAction() == RolloutAction.PIN;
      if (served && current != null && d.getVersion() != current) {
        return d.getVersion();
      }
    }
    return null;
  }

  /**
   * The highest version any decision has named: newer checkpoints only are offered as candidates,
   * so a rolled-back version is not tried again.
   */
  public static long decidedThrough(RolloutState s) {
    long max = s.getChampionVersion() == null ? 0 : s.getChampionVersion();
    if (s.getCandidateVersion() != null) {
      max = Math.max(max, s.getCandidateVersion());
    }
    for (RolloutDecision d : s.getHistory()) {
      max = Math.max(max, d.getVersion());
    }
    return max;
  }

  /**
   * Where in each pairs partition the candidate's current step began: its last STEP, else its arm's
   * first CANDIDATE (a version that followed goes on with the step).
   */
  public static Map<Integer, Long> stepOffsets(RolloutState s) {
    List<RolloutDecision> history = s.getHistory();
    for (int i = history.size() - 1; i >= 0; i--) {
      RolloutDecision d = history.get(i);
      if (d.getAction() == RolloutAction.STEP
          || (d.getAction() == RolloutAction.CANDIDATE && !isFollow(d))) {
        return offsetsOf(d);
      }
    }
    var lineage = lineage(s);
    return lineage.isEmpty() ? new HashMap<>() : lineage.values().iterator().next();
  }

  /** Where in each pairs partition the candidate's pairs begin (its own CANDIDATE decision). */
  public static Map<Integer, Long> candidateOffsets(RolloutState s) {
    List<RolloutDecision> history = s.getHistory();
    for (int i = history.size() - 1; i >= 0; i--) {
      if (history.get(i).getAction() == RolloutAction.CANDIDATE) {
        return offsetsOf(history.get(i));
      }
    }
    return new HashMap<>();
  }

  private static Map<Integer, Long> offsetsOf(RolloutDecision d) {
    Map<Integer, Long> offsets = new HashMap<>();
    if (d != null && d.getEvidence() != null) {
      for (Map.Entry<String, Double> e : d.getEvidence().getOther().entrySet()) {
        if (e.getKey().startsWith(OFFSET)) {
          offsets.put(
              Integer.parseInt(e.getKey().substring(OFFSET.length())), e.getValue().longValue());
        }
      }
    }
    return offsets;
  }

  private static RolloutEvidence offsets(Map<Integer, Long> offsets) {
    return withOffsets(
        RolloutEvidence.newBuilder()
            .setPairs(0)
            .setCandidateAccuracy(-1)
            .setChampionAccuracy(-1)
            .setOther(new HashMap<>())
            .build(),
        offsets);
  }

  private static RolloutEvidence withOffsets(RolloutEvidence e, Map<Integer, Long> offsets) {
    Map<String, Double> other = new HashMap<>(e.getOther());
    offsets.forEach((p, o) -> other.put(OFFSET + p, (double) o));
    return RolloutEvidence.newBuilder(e).setOther(other).build();
  }

  public static RolloutState empty(String tenant, String model, Instant now) {
    return RolloutState.newBuilder()
        .setTenantId(tenant)
        .setModel(model)
        .setPhase(RolloutPhase.IDLE)
        .setHistory(new ArrayList<>())
        .setUpdatedAt(now)
        .build();
  }

  private static void clearCandidate(RolloutState s) {
    s.setCandidateVersion(null);
    s.setCandidateWeight(0.0);
    s.setStep(0);
    if (s.getPhase() != RolloutPhase.PINNED) {
      s.setPhase(RolloutPhase.IDLE);
    }
  }

  private static RolloutState copy(RolloutState s, Instant now) {
    RolloutState c = RolloutState.newBuilder(s).build();
    c.setHistory(new ArrayList<>(s.getHistory()));
    c.setUpdatedAt(now);
    return c;
  }

  private static RolloutState append(
      RolloutState s,
      RolloutAction action,
      long version,
      double weight,
      String reason,
      String actor,
      RolloutEvidence evidence,
      Instant now) {
    List<RolloutDecision> history = new ArrayList<>(s.getHistory());
    history.add(
        RolloutDecision.newBuilder()
            .setAt(now)
            .setAction(action)
            .setVersion(version)
            .setWeight(weight)
            .setReason(reason)
            .setActor(actor)
            .setEvidence(evidence)
            .build());
    while (history.size() > HISTORY) {
      history.remove(0);
    }
    s.setHistory(history);
    return s;
  }
}
