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
}
