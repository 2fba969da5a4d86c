package io.prefstream.trainer.internal;

import io.prefstream.model.checkpoint.Manifest;
import java.util.Arrays;

/**
 * Mean, standard deviation and a decile histogram of rewards: the scorer normalises by the first
 * two, drift monitoring compares live scores with the third (edges at the reference deciles, so
 * each bin holds about a tenth; the outer bins take whatever falls beyond).
 */
public record RewardStats(double mean, double std, Manifest.Histogram histogram) {

  public static final int BINS = 10;

  public static RewardStats of(float[] rewards) {
    if (rewards.length == 0) {
      return new RewardStats(0, 1, null);
    }
    double sum = 0;
    for (float r : rewards) {
      sum += r;
    }
    double mean = sum / rewards.length;
    double squares = 0;
    for (float r : rewards) {
      squares += (r - mean) * (r - mean);
    }
    double std = Math.sqrt(squares / rewards.length);
    float[] sorted = rewards.clone();
    Arrays.sort(sorted);
    double[] edges = new double[BINS + 1];
    for (int i = 0; i <= BINS; i++) {
      edges[i] = sorted[(int) Math.min(sorted.length - 1, (long) i * sorted.length / BINS)];
    }
    edges[BINS] = sorted[sorted.length - 1];
    long[] counts = new long[BINS];
    for (float r : sorted) {
      int bin = Arrays.binarySearch(edges, 1, BINS, r);
      int index = bin >= 0 ? bin : -bin - 2;
      counts[Math.max(0, Math.min(BINS - 1, index))]++;
    }
    return new RewardStats(mean, std > 0 ? std : 1, new Manifest.Histogram(edges, counts));
  }
}
