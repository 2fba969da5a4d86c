package io.prefstream.simulator;

import java.time.Duration;
import java.time.Instant;

/**
 * What the simulated product does. Times are simulated: interaction {@code i} happens at {@code
 * start + i * step}, so a run is the same for the same seed whatever the wall clock.
 *
 * @param seed all randomness derives from it
 * @param tenant tenant of every event
 * @param users how many users (each with personal preferences)
 * @param start simulated time of the first interaction
 * @param step simulated time between interactions
 * @param mix which feedback follows an interaction
 * @param malformedShare share of extra, deliberately invalid events
 * @param shiftAt when the population's preferences shift (null: never)
 * @param newTopicAt when prompts of a new topic start to arrive (null: never)
 * @param noisyAnnotators share of annotators who label at random
 * @param adversarialAnnotators share of annotators who label the worse response as chosen
 */
public record SimulatorConfig(
    long seed,
    String tenant,
    int users,
    Instant start,
    Duration step,
    Mix mix,
    double malformedShare,
    Instant shiftAt,
    Instant newTopicAt,
    double noisyAnnotators,
    double adversarialAnnotators) {

  public SimulatorConfig {
    if (users < 1) {
      throw new IllegalArgumentException("users must be positive, got " + users);
    }
    if (step.isNegative()) {
      throw new IllegalArgumentException("step must not be negative, got " + step);
    }
    for (double share : new double[] {malformedShare, noisyAnnotators, adversarialAnnotators}) {
      if (!(share >= 0 && share <= 1)) {
        throw new IllegalArgumentException("shares must be in [0, 1], got " + share);
      }
    }
  }

  /**
   * Seed 42, tenant demo, 200 users, one interaction per 100 ms from {@code start}, no scenario.
   */
  public static SimulatorConfig defaults(Instant start) {
    return new SimulatorConfig(
        42, "demo", 200, start, Duration.ofMillis(100), Mix.DEFAULT, 0.0, null, null, 0.0, 0.0);
  }

  public SimulatorConfig withSeed(long newSeed) {
    return new SimulatorConfig(
        newSeed,
        tenant,
        users,
        start,
        step,
        mix,
        malformedShare,
        shiftAt,
        newTopicAt,
        noisyAnnotators,
        adversarialAnnotators);
  }

  public SimulatorConfig withTenant(String newTenant) {
    return new SimulatorConfig(
        seed,
        newTenant,
        users,
        start,
        step,
        mix,
        malformedShare,
        shiftAt,
        newTopicAt,
        noisyAnnotators,
        adversarialAnnotators);
  }

  public SimulatorConfig withMix(Mix newMix) {
    return new SimulatorConfig(
        seed,
        tenant,
        users,
        start,
        step,
        newMix,
        malformedShare,
        shiftAt,
        newTopicAt,
        noisyAnnotators,
        adversarialAnnotators);
  }

  public SimulatorConfig withMalformedShare(double share) {
    return new SimulatorConfig(
        seed,
        tenant,
        users,
        start,
        step,
        mix,
        share,
        shiftAt,
        newTopicAt,
        noisyAnnotators,
        adversarialAnnotators);
  }

  public SimulatorConfig withShiftAt(Instant at) {
    return new SimulatorConfig(
        seed,
        tenant,
        users,
        start,
        step,
        mix,
        malformedShare,
        at,
        newTopicAt,
        noisyAnnotators,
        adversarialAnnotators);
  }

  public SimulatorConfig withNewTopicAt(Instant at) {
    return new SimulatorConfig(
        seed,
        tenant,
        users,
        start,
        step,
        mix,
        malformedShare,
        shiftAt,
        at,
        noisyAnnotators,
        adversarialAnnotators);
  }

  public SimulatorConfig withAnnotators(double noisy, double adversarial) {
    return new SimulatorConfig(
        seed,
        tenant,
        users,
        start,
        step,
        mix,
        malformedShare,
        shiftAt,
        newTopicAt,
        noisy,
        adversarial);
  }

  public SimulatorConfig withTiming(Instant newStart, Duration newStep) {
    return new SimulatorConfig(
        seed,
        tenant,
        users,
        newStart,
        newStep,
        mix,
        malformedShare,
        shiftAt,
        newTopicAt,
        noisyAnnotators,
        adversarialAnnotators);
  }
}
