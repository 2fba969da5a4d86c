package io.prefstream.trainer.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The replay memory: a sample of everything offered, and the newest items apart. Uniform (Vitter's
 * algorithm R) or recency-weighted: with a half-life, once full each new item enters with
 * probability p and replaces a random slot (Aggarwal's biased reservoir, VLDB 2006), so an item's
 * chance to be kept halves every {@code halfLife} items offered after it (p = capacity · ln 2 /
 * half-life). Not thread-safe.
 */
public final class Reservoir<T> {

  private final int capacity;
  private final long halfLife;
  private final double entry;
  private final List<T> items;
  private final SplittableRandom random;
  private final Object[] recent;
  private int recentNext;
  private int recentSize;
  private long offered;

  /** A uniform sample of {@code capacity}, and no recent window. */
  public Reservoir(int capacity, long seed) {
    this(capacity, seed, 0, 0);
  }

  /**
   * @param halfLife items offered after which a kept item's chance to be kept halves (0: a uniform
   *     sample of everything offered)
   * @param recentCapacity the newest items kept apart, for {@link #sampleRecent}
   */
  public Reservoir(int capacity, long seed, long halfLife, int recentCapacity) {
    this.capacity = capacity;
    this.halfLife = halfLife;
    this.entry = halfLife > 0 ? Math.min(1.0, capacity * Math.log(2) / halfLife) : 0;
    this.items = new ArrayList<>(Math.min(capacity, 1 << 16));
    this.random = new SplittableRandom(seed);
    this.recent = new Object[recentCapacity];
  }

  public void offer(T item) {
    offered++;
    if (recent.length > 0) {
      recent[recentNext] = item;
      recentNext = (recentNext + 1) % recent.length;
      recentSize = Math.min(recentSize + 1, recent.length);
    }
    if (items.size() < capacity) {
      items.add(item);
    } else if (capacity > 0 && halfLife > 0) {
      if (random.nextDouble() < entry) {
        items.set(random.nextInt(capacity), item);
      }
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

  /** {@code n} of the newest items, drawn with replacement; none when none were kept apart. */
  @SuppressWarnings("unchecked")
  public List<T> sampleRecent(int n) {
    List<T> out = new ArrayList<>(n);
    if (recentSize == 0) {
      return out;
    }
    for (int i = 0; i < n; i++) {
      out.add((T) recent[random.nextInt(recentSize)]);
    }
    return out;
  }

  /**
   * Forgets the sample but the newest items (after a concept drift: pairs of the old preferences
   * would pull the model back); it fills again from what is offered next.
   */
  @SuppressWarnings("unchecked")
  public void forgetAllButRecent() {
    items.clear();
    for (int i = 0; i < recentSize; i++) {
      items.add((T) recent[(recentNext - recentSize + i + recent.length) % recent.length]);
    }
    offered = items.size();
  }

  public int size() {
    return items.size();
  }
}
