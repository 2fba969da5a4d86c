package io.prefstream.launcher.demo;

import io.prefstream.launcher.UserError;
import io.prefstream.simulator.Mix;
import io.prefstream.simulator.SimulatorConfig;
import java.time.Duration;
import java.time.Instant;
import picocli.CommandLine.Option;

/** What the simulated product does: size, seed, mix and scenarios. */
public final class SimulationOptions {

  @Option(
      names = "--events",
      paramLabel = "N",
      description =
          "Events to send. Default: ${DEFAULT-VALUE}. The demo takes 0: send until Ctrl-C.",
      defaultValue = "10000")
  int events;

  @Option(
      names = "--seed",
      description = "Seed; a run is the same for the same seed. Default: ${DEFAULT-VALUE}.",
      defaultValue = "42")
  long seed;

  @Option(
      names = "--tenant",
      description = "Tenant of the events. Default: ${DEFAULT-VALUE}.",
      defaultValue = "demo")
  String tenant;

  @Option(
      names = "--users",
      description = "Simulated users. Default: ${DEFAULT-VALUE}.",
      defaultValue = "200")
  int users;

  @Option(
      names = "--mix",
      paramLabel = "KIND=P,...",
      description =
          "Probability of each feedback kind per interaction: pairwise, ranking, rating, thumb,"
              + " implicit, labeled_pair; rerating: of each rating, that the user rates the"
              + " response again seconds later. Default: "
              + "pairwise=0.35,ranking=0.15,rating=0.25,thumb=0.3,implicit=0.6,labeled_pair=0.1,"
              + "rerating=0.05.",
      defaultValue = "")
  String mix;

  @Option(
      names = "--malformed-share",
      description = "Share of extra invalid events. Default: ${DEFAULT-VALUE}.",
      defaultValue = "0.02")
  double malformedShare;

  @Option(
      names = "--shift-after",
      paramLabel = "FRACTION",
      description = "Shift the users' preferences after this fraction of the run (e.g. 0.5).")
  Double shiftAfter;

  @Option(
      names = "--new-topic-after",
      paramLabel = "FRACTION",
      description = "Start a new prompt topic (input drift) after this fraction of the run.")
  Double newTopicAfter;

  @Option(
      names = "--noisy-annotators",
      description = "Share of annotators labeling at random. Default: ${DEFAULT-VALUE}.",
      defaultValue = "0")
  double noisyAnnotators;

  @Option(
      names = "--adversarial-annotators",
      description = "Share of annotators labeling the worse response. Default: ${DEFAULT-VALUE}.",
      defaultValue = "0")
  double adversarialAnnotators;

  @Option(
      names = "--annotator-overlap",
      paramLabel = "SHARE",
      description =
          "Share of labeled pairs a second annotator labels too (for agreement). Default:"
              + " ${DEFAULT-VALUE}.",
      defaultValue = "0.2")
  double annotatorOverlap;

  @Option(
      names = "--step-ms",
      description = "Simulated milliseconds between interactions. Default: ${DEFAULT-VALUE}.",
      defaultValue = "100")
  long stepMillis;

  /**
   * The configuration of a run that ends now: simulated time runs from {@code events / 2}
   * interactions ago (each has at least two events), so no event lies in the future.
   */
  public SimulatorConfig config() {
    try {
      Duration step = Duration.ofMillis(stepMillis);
      Duration span = step.multipliedBy(Math.max(1, events / 2));
      Instant start = Instant.now().minus(span);
      SimulatorConfig.Builder config =
          SimulatorConfig.builder(start)
              .optSeed(seed)
              .optTenant(tenant)
              .optUsers(users)
              .optStep(step)
              .optMix(Mix.parse(mix))
              .optMalformedShare(malformedShare)
              .optAnnotators(noisyAnnotators, adversarialAnnotators)
              .optAnnotatorOverlap(annotatorOverlap);
      // Interactions average about six events: place scenario times by that share of the run.
      Duration expected = step.multipliedBy(Math.max(1, events / 6));
      if (shiftAfter != null) {
        config.optShiftAt(start.plus(fraction(expected, shiftAfter, "--shift-after")));
      }
      if (newTopicAfter != null) {
        config.optNewTopicAt(start.plus(fraction(expected, newTopicAfter, "--new-topic-after")));
      }
      return config.build();
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
  }

  /**
   * The configuration of a run with no set length ({@code --events 0}): simulated time starts now
   * and follows the wall clock at {@code rate} events a second (an interaction is about six
   * events), so events are never in the future however long it runs.
   */
  public SimulatorConfig liveConfig(double rate) {
    try {
      return SimulatorConfig.builder(Instant.now())
          .optSeed(seed)
          .optTenant(tenant)
          .optUsers(users)
          .optStep(Duration.ofMillis(Math.max(1, (long) (6000 / rate))))
          .optMix(Mix.parse(mix))
          .optMalformedShare(malformedShare)
          .optAnnotators(noisyAnnotators, adversarialAnnotators)
          .optAnnotatorOverlap(annotatorOverlap)
          .build();
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
  }

  private static Duration fraction(Duration of, double f, String option) {
    if (!(f >= 0 && f <= 1)) {
      throw new UserError(option + " must be a fraction in [0, 1], got " + f);
    }
    return Duration.ofMillis((long) (of.toMillis() * f));
  }
}
