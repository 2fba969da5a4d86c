package io.prefstream.trainer.internal;

/** Accuracy over the last {@code window} outcomes and over all of them. */
public final class RollingAccuracy {

  private final double[] ring;
  private int next;
  private int filled;
  private double windowSum;
  private double totalSum;
  private long total;

  public RollingAccuracy(int window) {
    this.ring = new double[window];
  }

  /** Records outcomes: {@code correct} of {@code n} (ties counted half by the caller). */
  public void add(double correct, int n) {
    if (n == 0) {
      return;
    }
    double each = correct / n;
    for (int i = 0; i < n; i++) {
      if (filled == ring.length) {
        windowSum -= ring[next];
      } else {
        filled++;
      }
      ring[next] = each;
      windowSum += each;
      next = (next + 1) % ring.length;
    }
    totalSum += correct;
    total += n;
  }

  /** Accuracy over the window, NaN before any outcome. */
  public double rolling() {
    return filled == 0 ? Double.NaN : windowSum / filled;
  }

  public double overall() {
    return total == 0 ? Double.NaN : totalSum / total;
  }
}
