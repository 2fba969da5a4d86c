package io.prefstream.model.checkpoint;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * Which checkpoints of one tenant's model a store may delete: all but the newest {@code keep} and
 * every version something still needs (what the rollouts name as champion, candidate or pinned; the
 * trainer's own resume point). A pure decision; the trainer applies it after each checkpoint.
 *
 * @param keep newest versions always kept; 0 keeps every version
 */
public record Retention(int keep) {

  public Retention {
    if (keep < 0) {
      throw new IllegalArgumentException("keep must be at least 0, got " + keep);
    }
  }

  /** The versions to delete, oldest first. */
  public List<CheckpointId> prunable(List<CheckpointId> versions, Set<Long> needed) {
    if (keep == 0) {
      return List.of();
    }
    List<CheckpointId> sorted = new ArrayList<>(versions);
    sorted.sort(Comparator.comparingLong(CheckpointId::version));
    List<CheckpointId> out = new ArrayList<>();
    for (int i = 0; i < sorted.size() - keep; i++) {
      if (!needed.contains(sorted.get(i).version())) {
        out.add(sorted.get(i));
      }
    }
    return out;
  }
}
