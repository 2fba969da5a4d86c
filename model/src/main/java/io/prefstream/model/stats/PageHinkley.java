package io.prefstream.model.stats;

/**
 * The Page-Hinkley test for a drop in the mean of a stream (Page 1954; Hinkley 1971), as used for
 * concept drift: fed 1 for each pair a model orders correctly and 0 for each it does not (the
 * monitor: the serving model on fresh HOLDOUT pairs; the trainer: its own prequential outcomes), it
 * signals when accuracy has fallen. With x̄ₜ the running mean, it accumulates mₜ = Σ (x̄ₜ − xₜ − δ)
 * and signals when mₜ − min m exceeds λ. δ is the size of drop tolerated as noise; λ trades
 * detection delay against false alarms. Not thread-safe.
 */
public final class PageHinkley {

  private final double delta;
  private final double lambda;
  private final long minSamples;
  private long n;
  private double mean;
  private double cumulative;
  private double minimum;

  /**
   * @param delta drop of the mean tolerated per sample (e.g. 0.01)
   * @param lambda threshold of the statistic (e.g. 40: on a stationary 0/1 stream of variance σ², a
   *     false alarm per excursion has probability about exp(−2δλ/σ²), 1e-4 at accuracy 0.9)
   * @param minSamples samples before any signal (the mean must settle first)
   */
  public PageHinkley(double delta, double lambda, long minSamples) {
    this.delta = delta;
    this.lambda = lambda;
    this.minSamples = minSamples;
  }

  /** Adds a value; true when the test signals a drop (then it starts over). */
  public boolean add(double x) {
    n++;
    mean += (x - mean) / n;
    cumulative += mean - x - delta;
    minimum = Math.min(minimum, cumulative);
    if (n >= minSamples && statistic() > lambda) {
      reset();
      return true;
    }
    return false;
  }

  /**
   * Adds a value without starting over: the statistic keeps rising while the drop lasts, so an
   * alert raised on it stays until the detector is reset (e.g. for a new model).
   */
  public double update(double x) {
    n++;
    mean += (x - mean) / n;
    cumulative += mean - x - delta;
    minimum = Math.min(minimum, cumulative);
    return statistic();
  }

  public double lambda() {
    return lambda;
  }

  public long minSamples() {
    return minSamples;
  }

  /** The detector's state, to keep in a store: samples, mean, cumulative sum, minimum. */
  public double[] state() {
    return new double[] {n, mean, cumulative, minimum};
  }

  public PageHinkley restore(double[] state) {
    n = (long) state[0];
    mean = state[1];
    cumulative = state[2];
    minimum = state[3];
    return this;
  }

  /** mₜ − min m: how far the stream has fallen below its running mean, beyond δ. */
  public double statistic() {
    return cumulative - minimum;
  }

  public long samples() {
    return n;
  }

  public double mean() {
    return mean;
  }

  public void reset() {
    n = 0;
    mean = 0;
    cumulative = 0;
    minimum = 0;
  }
}
