package io.prefstream.schemas.lag;

import java.util.HashMap;
import java.util.Map;

/**
 * How far a model's training lies behind the pairs topic: per tenant and partition, the offsets of
 * the tenant's pairs with the time each was appended, so that for a model trained through given
 * offsets (a checkpoint's recorded positions: the next offset its trainer would have read) the
 * pairs it has not seen are counted and the oldest one's age is known. Pure bookkeeping, fed by
 * {@link PairLagTracker}; not thread-safe.
 *
 * <p>Only pairs at or above a partition's floor are kept (the lowest position any served model is
 * trained through); {@link #trim} drops the rest. A tenant's entries in one partition are capped at
 * {@link #CAP}: past it the oldest half is folded into a count and its first append time, so a
 * model far behind is reported at least that far behind.
 */
public final class PairLag {

  /** Most entries kept per tenant and partition (16 bytes each). */
  public static final int CAP = 1 << 20;

  /** Pairs not yet trained into a model and the age of the oldest, in seconds (0 when none). */
  public record Lag(long pairs, double seconds) {
    public static final Lag NONE = new Lag(0, 0);
  }

  /** One tenant's pairs in one partition: offsets and append times, ascending. */
  private static final class Run {
    long[] offsets = new long[16];
    long[] times = new long[16];
    int start;
    int end;
    long folded; // entries dropped by the cap, all below offsets[start]
    long foldedFirstTime;
    long foldedLastOffset = -1;

    void add(long offset, long time) {
      if (end == offsets.length) {
        if (start > 0) {
          System.arraycopy(offsets, start, offsets, 0, end - start);
          System.arraycopy(times, start, times, 0, end - start);
          end -= start;
          start = 0;
        } else {
          offsets = java.util.Arrays.copyOf(offsets, offsets.length * 2);
          times = java.util.Arrays.copyOf(times, times.length * 2);
        }
      }
      offsets[end] = offset;
      times[end++] = time;
      if (end - start > CAP) {
        int drop = CAP / 2;
        if (folded == 0) {
          foldedFirstTime = times[start];
        }
        folded += drop;
        start += drop;
        foldedLastOffset = offsets[start - 1];
      }
    }

    /** Drops entries below {@code floor}. */
    void trim(long floor) {
      if (foldedLastOffset >= 0 && foldedLastOffset < floor) {
        folded = 0;
        foldedLastOffset = -1;
      }
      start = firstAtOrAbove(floor);
      if (start == end) {
        start = 0;
        end = 0;
      }
    }

    int firstAtOrAbove(long offset) {
      int lo = start;
      int hi = end;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (offsets[mid] < offset) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo;
    }

    boolean isEmpty() {
      return start == end && folded == 0;
    }
  }

  private final Map<String, Map<Integer, Run>> runs = new HashMap<>();

  /** A pair of {@code tenant} at {@code offset} of {@code partition}, appended at {@code time}. */
  public void add(String tenant, int partition, long offset, long time) {
    runs.computeIfAbsent(tenant, t -> new HashMap<>())
        .computeIfAbsent(partition, p -> new Run())
        .add(offset, time);
  }

  /** Forgets every pair below {@code floor} in {@code partition}. */
  public void trim(int partition, long floor) {
    for (Map<Integer, Run> byPartition : runs.values()) {
      Run run = byPartition.get(partition);
      if (run != null) {
        run.trim(floor);
        if (run.isEmpty()) {
          byPartition.remove(partition);
        }
      }
    }
    runs.values().removeIf(Map::isEmpty);
  }

  /** Forgets everything of {@code partition} (before it is read again from a lower offset). */
  public void clear(int partition) {
    runs.values().forEach(m -> m.remove(partition));
    runs.values().removeIf(Map::isEmpty);
  }

  /**
   * The lag of a model of {@code tenant} trained through {@code positions} (partition to next
   * offset; a partition it names not is taken as trained through nothing kept), at {@code now}.
   */
  public Lag lag(String tenant, Map<Integer, Long> positions, long now) {
    Map<Integer, Run> byPartition = runs.get(tenant);
    if (byPartition == null) {
      return Lag.NONE;
    }
    long pairs = 0;
    long oldest = Long.MAX_VALUE;
    for (var e : byPartition.entrySet()) {
      Run run = e.getValue();
      long position = positions.getOrDefault(e.getKey(), 0L);
      int first = run.firstAtOrAbove(position);
      if (run.folded > 0 && position <= run.foldedLastOffset) {
        pairs += run.folded;
        oldest = Math.min(oldest, run.foldedFirstTime);
      }
      pairs += run.end - first;
      if (first < run.end) {
        oldest = Math.min(oldest, run.times[first]);
      }
    }
    if (pairs == 0) {
      return Lag.NONE;
    }
    return new Lag(pairs, Math.max(0, now - oldest) / 1000.0);
  }
}
