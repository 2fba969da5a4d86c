package io.prefstream.scorer.rollout;

import io.prefstream.avro.Split;
import io.prefstream.model.stats.PairedConfidenceSequence;

/**
 * What fresh pairs (TRAIN and HOLDOUT alike, all committed after the candidate was announced, so
 * neither model has trained on them) say of a candidate against the champion: paired outcomes (both
 * scored on the same pairs) with an always-valid confidence sequence on their mean difference, how
 * many of each split they were, the candidate's raw score spread, non-finite scores, and both
 * models' normalised score distributions. Not thread-safe.
 */
public final class CanaryEvidence {

  /** Bin edges of normalised scores for the population-stability index (plus two open tails). */
  private static final double[] EDGES = {-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2};

  private long pairs;
  private long holdoutPairs;
  private double candidateCorrect;
  private double championCorrect;
  private double sumDiff;
  private long scores;
  private long nonFinite;
  private double rawMean;
  private double rawM2;
  private final PairedConfidenceSequence sequence;
  private final long[] candidateBins = new long[EDGES.length + 1];
  private final long[] championBins = new long[EDGES.length + 1];

  /** Pairs around which the confidence sequence is tuned to be tightest (valid at every count). */
  public static final long HORIZON = 2000;

  /** Evidence whose bounds each err with probability 0.01, the default rollout.alpha. */
  public CanaryEvidence() {
    this(0.01);
  }

  /**
   * @param alpha the error of each one-sided bound on the accuracy difference, at every look
   */
  public CanaryEvidence(double alpha) {
    this.sequence = new PairedConfidenceSequence(alpha, HORIZON);
  }

  /**
   * One pair's four raw scores, and each model's normalisation (mean, std of its rewards).
   *
   * @param split the pair's split (both count alike; the decision records how many of each)
   * @param candidate the candidate's raw scores of chosen and rejected
   * @param champion the champion's raw scores of chosen and rejected
   */
  public void add(
      Split split, float[] candidate, float[] champion, Normaliser cand, Normaliser champ) {
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
    if (split == Split.HOLDOUT) {
      holdoutPairs++;
    }
    candidateCorrect += c;
    championCorrect += h;
    sumDiff += c - h;
    sequence.add(c - h);
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

  /** Of {@link #pairs()}, those from the HOLDOUT split. */
  public long holdoutPairs() {
    return holdoutPairs;
  }

  /** Of {@link #pairs()}, those from the TRAIN split. */
  public long trainPairs() {
    return pairs - holdoutPairs;
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

  /**
   * The always-valid lower bound on the mean per-pair difference in correctness (candidate minus
   * champion): it holds at every look, however often the controller looks ({@link
   * PairedConfidenceSequence}).
   */
  public double lowerBound() {
    return sequence.lower();
  }

  /** The always-valid upper bound on the mean difference (see {@link #lowerBound()}). */
  public double upperBound() {
    return sequence.upper();
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
}
