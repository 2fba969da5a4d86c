package io.prefstream.pairs;

import static io.prefstream.pairs.PairBuilderOptions.*;

import io.prefstream.avro.ImplicitKind;
import io.prefstream.config.Settings;
import java.io.Serializable;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * What the pair builder's operators need to turn events into pairs: event-time bounds, state limits
 * and the weighting rules (DESIGN.md "Turning events into pairs"). Serializable: it travels with
 * the operators to the task managers.
 *
 * @param maxOutOfOrderness watermark delay behind the newest event time of a partition
 * @param idleTimeout a partition silent this long stops holding the watermark back
 * @param sessionGap an interaction is final once the watermark passes its last event plus this
 * @param allowedLateness how long a final interaction keeps its state for late events
 * @param stateTtl processing-time backstop for state whose timers never fire
 * @param maxEventsPerInteraction most events kept for one interaction
 * @param maxFutureSkew how far beyond received_at occurred_at may lie
 * @param maxTextChars longest prompt or response accepted
 * @param holdoutShare share of interactions whose pairs are HOLDOUT
 * @param thumbWeight weight of an up-versus-down pair
 * @param ratingWeight weight of a rating pair at the full gap of the scale
 * @param ratingMinGap smallest normalised rating gap that makes a pair
 * @param implicitWeight weight of an implicit pair
 * @param implicitMinGap smallest implicit-utility difference that makes a pair
 * @param implicitCountCap most times a count signal adds its weight
 * @param dwellPivot dwell time that counts as neutral
 * @param implicitWeights utility weight of each implicit signal kind
 */
public record PairSemantics(
    Duration maxOutOfOrderness,
    Duration idleTimeout,
    Duration sessionGap,
    Duration allowedLateness,
    Duration stateTtl,
    int maxEventsPerInteraction,
    Duration maxFutureSkew,
    int maxTextChars,
    double holdoutShare,
    double thumbWeight,
    double ratingWeight,
    double ratingMinGap,
    double implicitWeight,
    double implicitMinGap,
    double implicitCountCap,
    Duration dwellPivot,
    Map<ImplicitKind, Double> implicitWeights,
    Map<ImplicitKind, Duration> implicitGaps)
    implements Serializable {

  public PairSemantics {
    if (stateTtl.compareTo(sessionGap.plus(allowedLateness)) < 0) {
      throw new IllegalArgumentException(
          "pairs.state-ttl ("
              + stateTtl
              + ") must be at least pairs.session-gap + pairs.allowed-lateness ("
              + sessionGap.plus(allowedLateness)
              + "), or open interactions would expire");
    }
    EnumMap<ImplicitKind, Double> weights = new EnumMap<>(ImplicitKind.class);
    for (ImplicitKind kind : ImplicitKind.values()) {
      Double w = implicitWeights.get(kind);
      if (w == null) {
        throw new IllegalArgumentException("no implicit weight for " + kind);
      }
      weights.put(kind, w);
    }
    implicitWeights = weights;
    EnumMap<ImplicitKind, Duration> gaps = new EnumMap<>(ImplicitKind.class);
    for (ImplicitKind kind : ImplicitKind.values()) {
      Duration g = implicitGaps.getOrDefault(kind, Duration.ZERO);
      if (g.compareTo(sessionGap) > 0) {
        throw new IllegalArgumentException(
            "pairs.session-gap."
                + kind.name().toLowerCase(java.util.Locale.ROOT)
                + " ("
                + g
                + ") must be at most pairs.session-gap ("
                + sessionGap
                + "): a signal kind's gap may only decide sooner");
      }
      gaps.put(kind, g.isZero() ? sessionGap : g);
    }
    implicitGaps = gaps;
  }

  public static PairSemantics defaults() {
    return from(Settings.empty());
  }

  /**
   * A signal kind's gap as set, or its default held to the session gap (a session gap set shorter
   * than a kind's default gap decides that kind at the session gap; one set longer is refused).
   */
  private static Duration signalGap(Settings s, io.prefstream.config.ConfigOption<Duration> gap) {
    Duration g = s.get(gap);
    Duration session = s.get(SESSION_GAP);
    return s.contains(gap) || g.compareTo(session) <= 0 ? g : session;
  }

  /** Reads the event-time and rule keys of {@link PairBuilderOptions}. */
  public static PairSemantics from(Settings s) {
    EnumMap<ImplicitKind, Double> weights = new EnumMap<>(ImplicitKind.class);
    weights.put(ImplicitKind.ACCEPT, s.get(IMPLICIT_ACCEPT));
    weights.put(ImplicitKind.COPY, s.get(IMPLICIT_COPY));
    weights.put(ImplicitKind.SHARE, s.get(IMPLICIT_SHARE));
    weights.put(ImplicitKind.DWELL, s.get(IMPLICIT_DWELL));
    weights.put(ImplicitKind.EDIT, s.get(IMPLICIT_EDIT));
    weights.put(ImplicitKind.REGENERATE, s.get(IMPLICIT_REGENERATE));
    weights.put(ImplicitKind.REPHRASE, s.get(IMPLICIT_REPHRASE));
    weights.put(ImplicitKind.ABANDON, s.get(IMPLICIT_ABANDON));
    EnumMap<ImplicitKind, Duration> gaps = new EnumMap<>(ImplicitKind.class);
    gaps.put(ImplicitKind.ACCEPT, signalGap(s, GAP_ACCEPT));
    gaps.put(ImplicitKind.COPY, signalGap(s, GAP_COPY));
    gaps.put(ImplicitKind.SHARE, signalGap(s, GAP_SHARE));
    gaps.put(ImplicitKind.DWELL, signalGap(s, GAP_DWELL));
    gaps.put(ImplicitKind.EDIT, signalGap(s, GAP_EDIT));
    gaps.put(ImplicitKind.REGENERATE, signalGap(s, GAP_REGENERATE));
    gaps.put(ImplicitKind.REPHRASE, signalGap(s, GAP_REPHRASE));
    gaps.put(ImplicitKind.ABANDON, signalGap(s, GAP_ABANDON));
    return new PairSemantics(
        s.get(MAX_OUT_OF_ORDERNESS),
        s.get(IDLE_TIMEOUT),
        s.get(SESSION_GAP),
        s.get(ALLOWED_LATENESS),
        s.get(STATE_TTL),
        s.get(MAX_EVENTS_PER_INTERACTION),
        s.get(MAX_FUTURE_SKEW),
        s.get(MAX_TEXT_CHARS),
        s.get(HOLDOUT_SHARE),
        s.get(THUMB_WEIGHT),
        s.get(RATING_WEIGHT),
        s.get(RATING_MIN_GAP),
        s.get(IMPLICIT_WEIGHT),
        s.get(IMPLICIT_MIN_GAP),
        s.get(IMPLICIT_COUNT_CAP),
        s.get(IMPLICIT_DWELL_PIVOT),
        weights,
        gaps);
  }

  /** The session gap of an interaction whose implicit signals include {@code kind}. */
  public Duration implicitGap(ImplicitKind kind) {
    return implicitGaps.get(kind);
  }

  /** The utility weight of one implicit signal kind. */
  public double implicitWeight(ImplicitKind kind) {
    return implicitWeights.get(kind);
  }
}
