package io.prefstream.model.checkpoint;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongFunction;

/**
 * Which checkpoints of one tenant's model a store may delete: all but the newest {@code keep} and
 * every version something still needs (what the rollouts name as champion, candidate or pinned; the
 * trainer's own resume point), and every checkpoint a kept delta is composed from. A pure decision;
 * the trainer applies it after each checkpoint.
 *
 * @param keep newest versions always kept; 0 keeps every version
 */
public record Retention(int keep) {

  public Retention {
    if (keep < 0) {
      throw new IllegalArgumentException("keep must be at least 0, got " + keep);
    }
  }

  /** The versions to delete, oldest first (every checkpoint full). */
  public List<CheckpointId> prunable(List<CheckpointId> versions, Set<Long> needed) {
    return prunable(versions, needed, v -> null);
  }

  /**
   * The versions to delete, oldest first, keeping as well every version a kept delta checkpoint is
   * loaded from: its parent, and so on back to a full checkpoint.
   *
   * @param deltaParent the version a checkpoint is a delta on, null for a full one
   */
  public List<CheckpointId> prunable(
      List<CheckpointId> versions, Set<Long> needed, LongFunction<Long> deltaParent) {
    if (keep == 0) {
      return List.of();
    }
    List<CheckpointId> sorted = new ArrayList<>(versions);
    sorted.sort(Comparator.comparingLong(CheckpointId::version));
    Set<Long> kept = new HashSet<>(needed);
    for (int i = Math.max(0, sorted.size() - keep); i < sorted.size(); i++) {
      kept.add(sorted.get(i).version());
    }
    for (Long v : List.copyOf(kept)) {
      for (Long p = deltaParent.apply(v); p != null && kept.add(p); p = deltaParent.apply(p)) {
        // every link of a kept chain stays
      }
    }
    List<CheckpointId> out = new ArrayList<>();
    for (CheckpointId id : sorted) {
      if (!kept.contains(id.version())) {
        out.add(id);
      }
    }
    return out;
  }
}
