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
 * @param annotatorOverlap share of labeled pairs a second annotator labels too (as annotation teams
 *     do to measure agreement)
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
    double adversarialAnnotators,
    double annotatorOverlap) {

  public SimulatorConfig {
    if (users < 1) {
      throw new IllegalArgumentException("users must be positive, got " + users);
    }
    if (step.isNegative()) {
      throw new IllegalArgumentException("step must not be negative, got " + step);
    }
    for (double share :
        new double[] {malformedShare, noisyAnnotators, adversarialAnnotators, annotatorOverlap}) {
      if (!(share >= 0 && share <= 1)) {
        throw new IllegalArgumentException("shares must be in [0, 1], got " + share);
      }
    }
  }

  /** This configuration with another seed: the same product, other users' interactions. */
  public SimulatorConfig withSeed(long other) {
    return new SimulatorConfig(
        other,
        tenant,
        users,
        start,
        step,
        mix,
        malformedShare,
        shiftAt,
        newTopicAt,
        noisyAnnotators,
        adversarialAnnotators,
        annotatorOverlap);
  }

  /**
   * Seed 42, tenant demo, 200 users, one interaction per 100 ms from {@code start}, no scenario.
   */
  public static SimulatorConfig defaults(Instant start) {
    return builder(start).build();
  }

  /** A builder starting from {@link #defaults}; required: the simulated start time. */
  public static Builder builder(Instant start) {
    return new Builder(start);
  }

  /** Builds a {@link SimulatorConfig}; each option has the default of {@link #defaults}. */
  public static final class Builder {
    private final Instant start;
    private long seed = 42;
    private String tenant = "demo";
    private int users = 200;
    private Duration step = Duration.ofMillis(100);
    private Mix mix = Mix.DEFAULT;
    private double malformedShare;
    private Instant shiftAt;
    private Instant newTopicAt;
    private double noisyAnnotators;
    private double adversarialAnnotators;
    private double annotatorOverlap = 0.2;

    private Builder(Instant start) {
      this.start = start;
    }

    public Builder optSeed(long value) {
      this.seed = value;
      return this;
    }

    public Builder optTenant(String value) {
      this.tenant = value;
      return this;
    }

    public Builder optUsers(int value) {
      this.users = value;
      return this;
    }

    public Builder optStep(Duration value) {
      this.step = value;
      return this;
    }

    public Builder optMix(Mix value) {
      this.mix = value;
      return this;
    }

    public Builder optMalformedShare(double value) {
      this.malformedShare = value;
      return this;
    }

    public Builder optShiftAt(Instant value) {
      this.shiftAt = value;
      return this;
    }

    public Builder optNewTopicAt(Instant value) {
      this.newTopicAt = value;
      return this;
    }

    public Builder optAnnotators(double noisy, double adversarial) {
      this.noisyAnnotators = noisy;
      this.adversarialAnnotators = adversarial;
      return this;
    }

    public Builder optAnnotatorOverlap(double share) {
      this.annotatorOverlap = share;
      return this;
    }

    public SimulatorConfig build() {
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
          noisyAnnotators,
          adversarialAnnotators,
          annotatorOverlap);
    }
  }
}
