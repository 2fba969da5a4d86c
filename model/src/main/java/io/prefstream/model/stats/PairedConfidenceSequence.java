package io.prefstream.model.stats;

/**
 * An always-valid confidence sequence for the mean per-pair difference in correctness of two models
 * judged on the same pairs (candidate minus champion: each pair's difference is -1, -1/2, 0, 1/2 or
 * 1): at every number of pairs, however often it is looked at and whenever one stops, the true mean
 * lies below {@link #upper()} except with probability {@code alpha}, and above {@link #lower()}
 * except with probability {@code alpha}. A repeated fixed-sample z-test has no such guarantee: its
 * type-I error grows with every look.
 *
 * <p>The bounds are the predictable plug-in empirical-Bernstein confidence sequence of Waudby-Smith
 * and Ramdas ("Estimating means of bounded random variables by betting", JRSS B 2024, Theorem 2),
 * one-sided, on the differences mapped to [0, 1]: they narrow with the observed variance, so models
 * that agree on most pairs (differences mostly 0) are told apart in far fewer pairs than the
 * worst-case (Hoeffding) bound needs. Each bound is kept as the running intersection (the tightest
 * so far), which stays valid. Not thread-safe.
 */
public final class PairedConfidenceSequence {

  /** Largest bet: Waudby-Smith and Ramdas use 1/2 or 3/4. */
  private static final double MAX_LAMBDA = 0.5;

  private final double logInverseAlpha;
  private final long horizon;
  private long n;
  private double sumX;
  private double sumSquares;
  private double meanBefore = 0.5;
  private double varianceBefore = 0.25;
  private double sumLambda;
  private double sumLambdaX;
  private double sumPenalty;
  private double lower = -1;
  private double upper = 1;
  private double sumDifference;

  /**
   * @param alpha the error of each one-sided bound, in (0, 1)
   * @param horizon the number of pairs around which the bounds are to be tightest: the bets follow
   *     Waudby-Smith and Ramdas' schedule (tuned for the time each is made, so a large difference
   *     is told within a few dozen pairs) until it reaches the horizon, and stay there (the
   *     guarantee holds at every number of pairs whatever it is); 0: their schedule throughout
   */
  public PairedConfidenceSequence(double alpha, long horizon) {
    if (!(alpha > 0 && alpha < 1)) {
      throw new IllegalArgumentException("alpha must be in (0, 1), got " + alpha);
    }
    if (horizon < 0) {
      throw new IllegalArgumentException("horizon must be at least 0, got " + horizon);
    }
    this.logInverseAlpha = Math.log(1 / alpha);
    this.horizon = horizon;
  }

  /** One pair's difference, candidate's correctness minus champion's, in [-1, 1]. */
  public void add(double difference) {
    if (!(difference >= -1 && difference <= 1)) {
      throw new IllegalArgumentException("a difference must be in [-1, 1], got " + difference);
    }
    double x = (difference + 1) / 2;
    long i = n + 1;
    // The bet is chosen before x is seen (predictable): from the estimates of earlier pairs.
    // Waudby-Smith and Ramdas' schedule tunes each bet for the time it is made; a horizon stops
    // that growth there, so the bets stay as bold as a test planned for that many pairs.
    double schedule = i * Math.log(1 + i);
    double tuning = horizon > 0 ? Math.min(schedule, horizon) : schedule;
    double lambda =
        Math.min(Math.sqrt(2 * logInverseAlpha / (varianceBefore * tuning)), MAX_LAMBDA);
    double deviation = x - meanBefore;
    sumPenalty += 4 * deviation * deviation * psi(lambda);
    sumLambda += lambda;
    sumLambdaX += lambda * x;
    n = i;
    sumX += x;
    sumDifference += difference;
    double mean = (0.5 + sumX) / (n + 1);
    sumSquares += (x - mean) * (x - mean);
    meanBefore = mean;
    varianceBefore = (0.25 + sumSquares) / (n + 1);
    double centre = sumLambdaX / sumLambda;
    double width = (logInverseAlpha + sumPenalty) / sumLambda;
    lower = Math.max(lower, 2 * (centre - width) - 1);
    upper = Math.min(upper, 2 * (centre + width) - 1);
  }

  /** ψ_E(λ) = (−log(1 − λ) − λ) / 4. */
  private static double psi(double lambda) {
    return (-Math.log1p(-lambda) - lambda) / 4;
  }

  public long pairs() {
    return n;
  }

  /** The mean difference so far (NaN before any pair). */
  public double mean() {
    return n == 0 ? Double.NaN : sumDifference / n;
  }

  /** The mean difference is at least this, except with probability alpha, at every time. */
  public double lower() {
    return Math.max(-1, lower);
  }

  /** The mean difference is at most this, except with probability alpha, at every time. */
  public double upper() {
    return Math.min(1, upper);
  }
}
