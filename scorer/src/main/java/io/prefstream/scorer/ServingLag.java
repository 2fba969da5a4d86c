package io.prefstream.scorer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.RolloutState;
import io.prefstream.schemas.lag.PairLag;
import io.prefstream.schemas.lag.PairLagTracker;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The serving lag of every model's champion and candidate: how many of its tenant's pairs were
 * committed to the pairs topic after the positions its checkpoint was trained through, and how old
 * the oldest of them is. Gauges {@code prefstream_scorer_serving_lag_pairs} and {@code
 * prefstream_scorer_serving_lag_seconds} by tenant, model and arm; {@code /v1/models} shows it per
 * version. Read by a {@link PairLagTracker} on its own consumer.
 */
final class ServingLag {

  /** One served version of a model: its arm and what it was trained through. */
  record Arm(String key, String arm, long version, PairLagTracker.Model trained) {}

  private final Registry follower;
  private final String topic;
  private final MultiGauge pairs;
  private final MultiGauge seconds;
  private PairLagTracker tracker;
  private volatile List<Arm> arms = List.of();

  ServingLag(Registry follower, String topic, MeterRegistry meters) {
    this.follower = follower;
    this.topic = topic;
    this.pairs =
        MultiGauge.builder("prefstream.scorer.serving.lag.pairs")
            .description(
                "Pairs of the tenant committed after the positions the served version (champion or"
                    + " candidate arm) was trained through")
            .register(meters);
    this.seconds =
        MultiGauge.builder("prefstream.scorer.serving.lag.seconds")
            .description(
                "Age of the oldest pair the served version (champion or candidate arm) has not"
                    + " been trained on; 0 when it is trained through every pair")
            .register(meters);
  }

  /** Starts following with {@code tracker} (its {@code served} is {@link #served()}). */
  void follow(PairLagTracker tracker) {
    this.tracker = tracker;
  }

  /** The versions served now, re-read from the rollout states; the gauges follow them. */
  Collection<PairLagTracker.Model> served() {
    List<Arm> now = new ArrayList<>();
    for (var e : follower.rollouts().entrySet()) {
      RolloutState s = e.getValue();
      add(now, e.getKey(), "champion", s.getChampionVersion());
      add(now, e.getKey(), "candidate", s.getCandidateVersion());
    }
    if (!now.equals(arms)) {
      arms = List.copyOf(now);
      List<MultiGauge.Row<?>> pairRows = new ArrayList<>();
      List<MultiGauge.Row<?>> secondRows = new ArrayList<>();
      for (Arm a : arms) {
        Tags tags =
            Tags.of(
                "tenant", a.trained().tenant(),
                "model", a.key().substring(a.key().indexOf('/') + 1),
                "arm", a.arm());
        pairRows.add(MultiGauge.Row.of(tags, a, x -> lag(x).pairs()));
        secondRows.add(MultiGauge.Row.of(tags, a, x -> lag(x).seconds()));
      }
      pairs.register(pairRows, true);
      seconds.register(secondRows, true);
    }
    return arms.stream().map(Arm::trained).toList();
  }

  private void add(List<Arm> arms, String key, String arm, Long version) {
    if (version == null) {
      return;
    }
    CheckpointPublished c = follower.checkpoint(key, version);
    if (c != null) {
      arms.add(new Arm(key, arm, version, PairLagTracker.Model.of(c, topic)));
    }
  }

  /** The lag of one version of a model; null before the tracker has caught up. */
  PairLag.Lag lag(String key, long version) {
    for (Arm a : arms) {
      if (a.key().equals(key) && a.version() == version) {
        return tracker == null || !tracker.caughtUp() ? null : lag(a);
      }
    }
    return null;
  }

  private PairLag.Lag lag(Arm a) {
    return tracker == null ? PairLag.Lag.NONE : tracker.lag(a.trained());
  }
}
