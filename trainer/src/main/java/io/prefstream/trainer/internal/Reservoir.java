package io.prefstream.trainer.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** A uniform sample of everything offered (Vitter's algorithm R), for replay. */
public final class Reservoir<T> {

  private final int capacity;
  private final List<T> items;
  private final SplittableRandom random;
  private long offered;

  public Reservoir(int capacity, long seed) {
    this.capacity = capacity;
    this.items = new ArrayList<>(Math.min(capacity, 1 << 16));
    this.random = new SplittableRandom(seed);
  }

  public void offer(T item) {
    offered++;
    if (items.size() < capacity) {
      items.add(item);
    } else if (capacity > 0) {
      long j = random.nextLong(offered);
      if (j < capacity) {
        items.set((int) j, item);
      }
    }
  }

  /** {@code n} items drawn with replacement; fewer (none) when the reservoir is empty. */
  public List<T> sample(int n) {
    List<T> out = new ArrayList<>(n);
    if (items.isEmpty()) {
      return out;
    }
    for (int i = 0; i < n; i++) {
      out.add(items.get(random.nextInt(items.size())));
    }
    return out;
  }

  public int size() {
    return items.size();
  }
}
