package io.prefstream.model;

/**
 * A batch of candidates featurized in plain Java by {@link RewardModel#prepare}, ready to become
 * input arrays. Preparing touches no engine state, so a trainer can prepare the next batch on
 * another thread while the engine works on this one.
 *
 * @param size how many candidates
 */
public interface Prepared {
  int size();

  /** The cost of one candidate in the network, e.g. its tokens; 1 where all cost the same. */
  default int length(int candidate) {
    return 1;
  }

  /** Whether a candidate lost part of its text to the model's input limit. */
  default boolean truncated(int candidate) {
    return false;
  }

  /**
   * The given candidates, in that order, as a batch of their own: a training step split into passes
   * (gradient accumulation) runs each pass on one. Only models that {@link
   * RewardModel#supportsPasses} implement it.
   */
  default Prepared select(int[] candidates) {
    throw new UnsupportedOperationException(
        getClass().getName() + " trains each step in one pass (no select)");
  }
}
