package io.prefstream.scorer.rollout;

/**
 * What fresh HOLDOUT pairs say of a candidate against the champion: paired outcomes (both scored on
 * the same pairs), the candidate's raw score spread, non-finite scores, and both models' normalised
 * score distributions. Not thread-safe.
 */
public final class CanaryEvidence {

  /** Bin edges of normalised scores for the population-stability index (plus two open tails). */
  private static final double[] EDGES = {-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2};

  private long pairs;
  private double candidateCorrect;
  private double championCorrect;
  private double sumDiff;
  private double sumDiffSquared;
  private long scores;
  private long nonFinite;
  private double rawMean;
  private double rawM2;
  private final long[] candidateBins = new long[EDGES.length + 1];
  private final long[] championBins = new long[EDGES.length + 1];

  /**
   * One pair's four raw scores, and each model's normalisation (mean, std of its rewards).
   *
   * @param candidate the candidate's raw scores of chosen and rejected
   * @param champion the champion's raw scores of chosen and rejected
   */
  public void add(float[] candidate, float[] champion, Normaliser cand, Normaliser champ) {
    for (float s : candidate) {
      scores++;
      if (!Float.isFinite(s)) {
        nonFinite++;
        continue;
      }
      double delta = s - rawMean;
      long finite = scores - nonFinite;
      rawMean += delta / finite;
      rawM2 += delta * (s - rawMean);
      candidateBins[bin(cand.apply(s))]++;
    }
    for (float s : champion) {
      if (Float.isFinite(s)) {
        championBins[bin(champ.apply(s))]++;
      }
    }
    if (!Float.isFinite(candidate[0]) || !Float.isFinite(candidate[1])) {
      return; // counted as non-finite; such a candidate is rolled back anyway
    }
    double c = outcome(candidate[0], candidate[1]);
    double h = outcome(champion[0], champion[1]);
    pairs++;
    candidateCorrect += c;
    championCorrect += h;
    sumDiff += c - h;
    sumDiffSquared += (c - h) * (c - h);
  }

  /** A model's normalisation of raw rewards: (raw − mean) / std. */
  public record Normaliser(double mean, double std) {
    public double apply(double raw) {
      return (raw - mean) / (std > 0 ? std : 1);
    }
  }

  private static double outcome(float chosen, float rejected) {
    return chosen > rejected ? 1 : chosen == rejected ? 0.5 : 0;
  }

  private static int bin(double normalised) {
    int b = 0;
    while (b < EDGES.length && normalised >= EDGES[b]) {
      b++;
    }
    return b;
  }

  public long pairs() {
    return pairs;
  }

  public long nonFinite() {
    return nonFinite;
  }

  public long scores() {
    return scores;
  }

  public double candidateAccuracy() {
    return pairs == 0 ? Double.NaN : candidateCorrect / pairs;
  }

  public double championAccuracy() {
    return pairs == 0 ? Double.NaN : championCorrect / pairs;
  }

  /** Candidate minus champion accuracy on the same pairs. */
  public double difference() {
    return pairs == 0 ? Double.NaN : sumDiff / pairs;
  }

  /** Standard deviation of the candidate's finite raw scores. */
  public double scoreSpread() {
    long finite = scores - nonFinite;
    return finite < 2 ? Double.NaN : Math.sqrt(rawM2 / (finite - 1));
  }

  /** {@link #worsePValue(double)} with no margin: H0, the candidate is at least as accurate. */
  public double worsePValue() {
    return worsePValue(0);
  }

  /**
   * One-sided p-value that the candidate is worse than the champion by more than {@code margin}: a
   * paired z-test of the mean per-pair difference in correctness (H0: difference ≥ −margin). With
   * no variance, 0 when the difference is below −margin and 1 otherwise.
   */
  public double worsePValue(double margin) {
    if (pairs < 2) {
      return 1;
    }
    double mean = sumDiff / pairs;
    double se = standardError(mean);
    return se > 0 ? normalCdf((mean + margin) / se) : mean < -margin ? 0 : 1;
  }

  /**
   * One-sided paired z-test that the candidate is better: the p-value of H0 "the candidate's
   * accuracy is at most the champion's" on these pairs.
   */
  public double betterPValue() {
    if (pairs < 2) {
      return 1;
    }
    double mean = sumDiff / pairs;
    double se = standardError(mean);
    return se > 0 ? normalCdf(-mean / se) : mean > 0 ? 0 : 1;
  }

  /** Standard error of the mean per-pair difference (at least two pairs); 0 when none varies. */
  private double standardError(double mean) {
    double variance = (sumDiffSquared - pairs * mean * mean) / (pairs - 1);
    return variance > 0 ? Math.sqrt(variance / pairs) : 0;
  }

  /** Population-stability index of the candidate's normalised scores against the champion's. */
  public double psi() {
    long a = 0;
    long b = 0;
    for (int i = 0; i < candidateBins.length; i++) {
      a += candidateBins[i];
      b += championBins[i];
    }
    if (a == 0 || b == 0) {
      return 0;
    }
    double psi = 0;
    for (int i = 0; i < candidateBins.length; i++) {
      double p = Math.max(1e-4, (double) candidateBins[i] / a);
      double q = Math.max(1e-4, (double) championBins[i] / b);
      psi += (p - q) * Math.log(p / q);
    }
    return psi;
  }

  /** Φ(z), the standard normal distribution function (via Cody's erfc; absolute error < 1e-10). */
  static double normalCdf(double z) {
    return 0.5 * erfc(-z / Math.sqrt(2));
  }

  private static final double[] A = {
    3.16112374387056560, 113.864154151050156, 377.485237685302021, 3209.37758913846947
  };
  private static final double[] B = {
    23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683333306281
  };
  private static final double[] C = {
    0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131,
    881.952221241769090, 1712.04761263407058, 2051.07837782607147, 1230.33935479799725
  };
  private static final double[] D = {
    15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019,
    3290.79923573345963, 4362.61909014324716, 3439.36767414372164, 1230.33935480374942
  };
  private static final double[] P = {
    0.305326634961232344,
    0.360344899949804439,
    0.125781726111229246,
    0.0160837851487422766,
    6.58749161529837803e-4
  };
  private static final double[] Q = {
    2.56852019228982242,
    1.87295284992346725,
    0.527905102951428412,
    0.0605183413124413191,
    0.00233520497626869185
  };

  /** The complementary error function, by W. J. Cody's rational approximations (1969). */
  static double erfc(double x) {
    double ax = Math.abs(x);
    if (ax < 0.5) {
      double t = x * x;
      double top = 0.185777706184603153 * t;
      double bottom = t;
      for (int i = 0; i < 3; i++) {
        top = (top + A[i]) * t;
        bottom = (bottom + B[i]) * t;
      }
      return 1 - x * (top + A[3]) / (bottom + B[3]);
    }
    double result;
    if (ax < 4) {
      double top = 2.15311535474403846e-8 * ax;
      double bottom = ax;
      for (int i = 0; i < 7; i++) {
        top = (top + C[i]) * ax;
        bottom = (bottom + D[i]) * ax;
      }
      result = Math.exp(-ax * ax) * (top + C[7]) / (bottom + D[7]);
    } else {
      double z = 1 / (ax * ax);
      double top = 0.0163153871373020978 * z;
      double bottom = z;
      for (int i = 0; i < 4; i++) {
        top = (top + P[i]) * z;
        bottom = (bottom + Q[i]) * z;
      }
      double ratio = z * (top + P[4]) / (bottom + Q[4]);
      result = Math.exp(-ax * ax) / ax * (0.564189583547756287 - ratio);
    }
    return x < 0 ? 2 - result : result;
  }
}
