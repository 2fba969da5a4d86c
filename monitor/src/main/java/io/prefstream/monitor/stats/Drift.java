package io.prefstream.monitor.stats;

import java.util.Arrays;

/** Distances between distributions and rank correlation, as the drift monitor uses them. */
public final class Drift {

  /** Floor of a bin's share in PSI, so that one empty bin does not make the index infinite. */
  public static final double PSI_FLOOR = 1e-4;

  private Drift() {}

  /**
   * Population-stability index of {@code actual} against {@code expected}, two histograms (counts)
   * over the same bins: Σ (a − e) · ln(a / e) over the bins' shares, each share floored at {@link
   * #PSI_FLOOR}. 0 when either is empty.
   */
  public static double psi(double[] expected, double[] actual) {
    requireSameBins(expected, actual);
    double e = sum(expected);
    double a = sum(actual);
    if (e <= 0 || a <= 0) {
      return 0;
    }
    double psi = 0;
    for (int i = 0; i < expected.length; i++) {
      double p = Math.max(PSI_FLOOR, actual[i] / a);
      double q = Math.max(PSI_FLOOR, expected[i] / e);
      psi += (p - q) * Math.log(p / q);
    }
    return psi;
  }

  /**
   * The Kolmogorov-Smirnov statistic between two histograms over the same bins: the largest
   * distance between their cumulative shares at the bin boundaries. 0 when either is empty.
   */
  public static double ksBinned(double[] expected, double[] actual) {
    requireSameBins(expected, actual);
    double e = sum(expected);
    double a = sum(actual);
    if (e <= 0 || a <= 0) {
      return 0;
    }
    double ce = 0;
    double ca = 0;
    double d = 0;
    for (int i = 0; i < expected.length; i++) {
      ce += expected[i] / e;
      ca += actual[i] / a;
      d = Math.max(d, Math.abs(ce - ca));
    }
    return d;
  }

  /** The two-sample Kolmogorov-Smirnov statistic of raw samples. 0 when either is empty. */
  public static double ks(double[] a, double[] b) {
    if (a.length == 0 || b.length == 0) {
      return 0;
    }
    double[] x = a.clone();
    double[] y = b.clone();
    Arrays.sort(x);
    Arrays.sort(y);
    int i = 0;
    int j = 0;
    double d = 0;
    while (i < x.length && j < y.length) {
      double v = Math.min(x[i], y[j]);
      while (i < x.length && x[i] <= v) {
        i++;
      }
      while (j < y.length && y[j] <= v) {
        j++;
      }
      d = Math.max(d, Math.abs((double) i / x.length - (double) j / y.length));
    }
    return d;
  }

  /**
   * Jensen-Shannon divergence of two distributions (counts over the same categories), in bits: in
   * [0, 1], symmetric, and finite where a category is missing on one side. 0 when either is empty.
   */
  public static double jensenShannon(double[] p, double[] q) {
    requireSameBins(p, q);
    double sp = sum(p);
    double sq = sum(q);
    if (sp <= 0 || sq <= 0) {
      return 0;
    }
    double js = 0;
    for (int i = 0; i < p.length; i++) {
      double a = p[i] / sp;
      double b = q[i] / sq;
      double m = (a + b) / 2;
      if (a > 0) {
        js += 0.5 * a * Math.log(a / m);
      }
      if (b > 0) {
        js += 0.5 * b * Math.log(b / m);
      }
    }
    return Math.max(0, js / Math.log(2));
  }

  /**
   * Spearman's rank correlation of paired samples, ties given their average rank; NaN with fewer
   * than two pairs or when either side is constant.
   */
  public static double spearman(double[] x, double[] y) {
    if (x.length != y.length) {
      throw new IllegalArgumentException(
          "paired samples differ in length: " + x.length + " and " + y.length);
    }
    if (x.length < 2) {
      return Double.NaN;
    }
    return pearson(ranks(x), ranks(y));
  }

  /** Ranks from 1, ties sharing their average rank. */
  static double[] ranks(double[] v) {
    Integer[] order = new Integer[v.length];
    for (int i = 0; i < v.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(v[a], v[b]));
    double[] ranks = new double[v.length];
    int i = 0;
    while (i < v.length) {
      int j = i;
      while (j + 1 < v.length && v[order[j + 1]] == v[order[i]]) {
        j++;
      }
      double rank = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) {
        ranks[order[k]] = rank;
      }
      i = j + 1;
    }
    return ranks;
  }

  private static double pearson(double[] x, double[] y) {
    double mx = 0;
    double my = 0;
    for (int i = 0; i < x.length; i++) {
      mx += x[i] / x.length;
      my += y[i] / y.length;
    }
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < x.length; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
    }
    if (sxx == 0 || syy == 0) {
      return Double.NaN;
    }
    return sxy / Math.sqrt(sxx * syy);
  }

  private static double sum(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s;
  }

  private static void requireSameBins(double[] a, double[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException(
          "histograms have different bins: " + a.length + " and " + b.length);
    }
  }
}
