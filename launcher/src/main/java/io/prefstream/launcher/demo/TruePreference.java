package io.prefstream.launcher.demo;

import ai.djl.Device;
import io.prefstream.avro.PreferencePair;
import io.prefstream.model.Candidate;
import io.prefstream.model.RewardModel;
import io.prefstream.model.RewardModels;
import io.prefstream.model.checkpoint.CheckpointId;
import io.prefstream.model.checkpoint.CheckpointStore;
import io.prefstream.model.checkpoint.Checkpoints;
import io.prefstream.model.checkpoint.Manifest;
import io.prefstream.simulator.DirectPairs;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How well a published checkpoint agrees with the simulated users' true preferences: on fresh pairs
 * of responses (new seed, at the end of the run), the share the model orders as the population's
 * true utility does. Pairs of equal true utility are left out.
 */
public final class TruePreference {

  private TruePreference() {}

  /**
   * The agreement of one checkpoint (the trainer's last: a checkpoint published beside it may be
   * newer), verified.
   *
   * @param run the simulated product's configuration (tenant, scenario)
   * @param at when to take the true preferences (after a shift, the shifted ones)
   */
  public static Optional<Double> agreement(
      CheckpointStore store, CheckpointId id, SimulatorConfig run, Instant at, int pairs)
      throws IOException {
    Path dir = store.fetch(id);
    Manifest manifest = Checkpoints.verify(dir, null);
    try (RewardModel reward =
        RewardModels.forCheckpoint(manifest.spec(), Device.cpu(), "fp32", dir)) {
      // A delta checkpoint is composed from its chain back to its full checkpoint.
      io.prefstream.model.checkpoint.CheckpointLoader.loadParameters(
          reward, Checkpoints.chain(dir, manifest));
      return agreement(reward, run, at, pairs);
    }
  }

  /**
   * The share of {@code pairs} fresh pairs (new seed, at {@code at}) that {@code reward} orders as
   * the population's true utility does; empty when every pair is a tie.
   */
  public static Optional<Double> agreement(
      RewardModel reward, SimulatorConfig run, Instant at, int pairs) {
    SimulatorConfig probe =
        new SimulatorConfig(
            run.seed() + 7919,
            run.tenant(),
            run.users(),
            at,
            Duration.ZERO,
            run.mix(),
            0,
            run.shiftAt(),
            run.newTopicAt(),
            0,
            0,
            0);
    Simulator simulator = new Simulator(probe);
    List<PreferencePair> fresh = new DirectPairs(simulator, Integer.MAX_VALUE).next(pairs);
    List<Candidate> candidates = new ArrayList<>();
    for (PreferencePair p : fresh) {
      candidates.add(new Candidate(p.getPrompt(), p.getChosen()));
      candidates.add(new Candidate(p.getPrompt(), p.getRejected()));
    }
    float[] scores = reward.score(candidates);
    int agree = 0;
    int counted = 0;
    for (int i = 0; i < fresh.size(); i++) {
      PreferencePair p = fresh.get(i);
      double a = simulator.trueUtility(p.getPrompt(), p.getChosen(), at);
      double b = simulator.trueUtility(p.getPrompt(), p.getRejected(), at);
      if (a != b) {
        counted++;
        agree += (scores[2 * i] > scores[2 * i + 1]) == (a > b) ? 1 : 0;
      }
    }
    return counted == 0 ? Optional.empty() : Optional.of((double) agree / counted);
  }
}
