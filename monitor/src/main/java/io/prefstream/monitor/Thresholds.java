package io.prefstream.monitor;

import java.util.HashMap;
import java.util.Map;

/**
 * Warn and alert thresholds of each metric, with per-tenant overrides: {@code
 * monitor.threshold.METRIC.warn|alert} and {@code monitor.threshold.TENANT.METRIC.warn|alert}. A
 * level is left below {@code leaveShare} of its threshold (hysteresis).
 */
public final class Thresholds {

  /** A metric's thresholds. */
  public record Pair(double warn, double alert) {}

  static final Map<String, Pair> DEFAULTS =
      Map.ofEntries(
          Map.entry("score_psi", new Pair(0.1, 0.25)),
          Map.entry("score_ks", new Pair(0.1, 0.2)),
          Map.entry("length_preference_excess", new Pair(0.1, 0.2)),
          Map.entry("signal_kind_js", new Pair(0.05, 0.1)),
          Map.entry("prompt_length_psi", new Pair(0.1, 0.25)),
          Map.entry("response_length_psi", new Pair(0.1, 0.25)),
          Map.entry("script_mix_js", new Pair(0.05, 0.1)),
          Map.entry("thumbs_up_rate_change", new Pair(0.1, 0.2)),
          Map.entry("rating_mean_change", new Pair(0.1, 0.2)),
          Map.entry("longer_wins_share_change", new Pair(0.1, 0.2)),
          Map.entry("dead_letter_rate", new Pair(0.05, 0.2)),
          Map.entry("duplicate_rate", new Pair(0.01, 0.05)),
          Map.entry("late_rate", new Pair(0.05, 0.2)),
          Map.entry("annotator_disagreement", new Pair(0.3, 0.4)),
          Map.entry("concept_drift", new Pair(0.5, 1.0)));

  private final Map<String, String> settings;
  private final double leaveShare;

  /**
   * @param settings keys under {@code monitor.threshold.}, the prefix removed
   */
  public Thresholds(Map<String, String> settings, double leaveShare) {
    this.settings = new HashMap<>(settings);
    this.leaveShare = leaveShare;
  }

  public static Thresholds defaults() {
    return new Thresholds(Map.of(), 0.8);
  }

  public double leaveShare() {
    return leaveShare;
  }

  /** The thresholds of {@code metric} for {@code tenant}. */
  public Pair of(String tenant, String metric) {
    Pair base = DEFAULTS.getOrDefault(metric, new Pair(Double.NaN, Double.NaN));
    return new Pair(
        value(tenant, metric, "warn", base.warn()), value(tenant, metric, "alert", base.alert()));
  }

  private double value(String tenant, String metric, String which, double fallback) {
    String v = settings.get(tenant + "." + metric + "." + which);
    if (v == null) {
      v = settings.get(metric + "." + which);
    }
    if (v == null) {
      return fallback;
    }
    try {
      return Double.parseDouble(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "monitor.threshold." + metric + "." + which + " must be a number, got '" + v + "'");
    }
  }
}
