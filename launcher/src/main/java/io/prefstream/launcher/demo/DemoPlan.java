package io.prefstream.launcher.demo;

import io.prefstream.config.Settings;
import io.prefstream.launcher.UserError;
import io.prefstream.launcher.stack.LocalStack;
import io.prefstream.launcher.stack.ServiceKind;
import io.prefstream.local.LocalKafka;
import io.prefstream.pairs.PairBuilderOptions;
import io.prefstream.scorer.ScorerOptions;
import io.prefstream.simulator.SimulatorConfig;
import io.prefstream.trainer.TrainerOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A demo run, validated before anything starts: which scenario, which users (or which dataset), how
 * many events at what rate, which model, on which ports. {@link #of} applies the scenarios'
 * defaults and refuses what cannot run, with the option to change.
 *
 * @param users the simulated users and product (the dataset's tenant when replaying)
 * @param events events to send, 0 to send until Ctrl-C
 * @param rate feedback events per second, 0 as fast as ingest takes them
 * @param rankRate best-of-N requests per second while the product sends
 * @param model the model type to train, null for PREFSTREAM_MODEL_TYPE or the default
 * @param dataset a preference dataset to replay instead of the simulated product, or null
 */
public record DemoPlan(
    String scenario,
    SimulatorConfig users,
    int events,
    double rate,
    double rankRate,
    String model,
    Path dataset,
    int ingestPort,
    int scorerPort,
    int monitorPort) {

  public static final List<String> SCENARIOS =
      List.of("steady", "preference-shift", "bad-input", "poisoned-checkpoint");

  /** Events of the poisoned-checkpoint scenario unless --events is given: time to judge it. */
  public static final int POISONED_EVENTS = 20_000;

  /**
   * The plan of these options; the scenario's defaults are applied to {@code simulation} (a
   * preference shift halfway, 30% malformed events, 20,000 events for the poison).
   *
   * @param eventsGiven whether --events was given (the poison scenario has its own default)
   * @param rankRate --rank-rate, null for its default: 10, or 1 for an encoder
   * @param model --model, null for PREFSTREAM_MODEL_TYPE or the default
   * @throws UserError naming the option that cannot be used as given
   */
  public static DemoPlan of(
      String scenario,
      SimulationOptions simulation,
      boolean eventsGiven,
      double rate,
      Double rankRate,
      String model,
      Path dataset,
      int ingestPort,
      int scorerPort,
      int monitorPort) {
    if (!SCENARIOS.contains(scenario)) {
      throw new UserError(
          "--scenario must be one of " + String.join(", ", SCENARIOS) + ", got '" + scenario + "'");
    }
    if (scenario.equals("preference-shift") && simulation.shiftAfter == null) {
      simulation.shiftAfter = 0.5;
    }
    if (scenario.equals("bad-input")) {
      simulation.malformedShare = Math.max(simulation.malformedShare, 0.3);
    }
    boolean poisoning = scenario.equals("poisoned-checkpoint");
    if (poisoning && dataset != null) {
      throw new UserError(
          "--scenario poisoned-checkpoint runs the simulated product, not --dataset");
    }
    if (poisoning && !eventsGiven) {
      simulation.events = POISONED_EVENTS;
    }
    if (simulation.events < 0) {
      throw new UserError("--events must be 0 (until Ctrl-C) or more, got " + simulation.events);
    }
    boolean untilStopped = simulation.events == 0;
    if (untilStopped && dataset == null && rate <= 0) {
      throw new UserError("--events 0 (until Ctrl-C) needs a --rate above 0");
    }
    if (untilStopped && (simulation.shiftAfter != null || simulation.newTopicAfter != null)) {
      throw new UserError(
          "--shift-after and --new-topic-after place a change by the run's length: give --events");
    }
    double ranks = rankRate != null ? rankRate : modelType(model).equals("encoder") ? 1 : 10;
    if (rate < 0 || ranks < 0) {
      throw new UserError("--rate and --rank-rate must not be negative");
    }
    // A run with no set length follows the wall clock; a bounded one ends now.
    SimulatorConfig users =
        untilStopped && dataset == null ? simulation.liveConfig(rate) : simulation.config();
    return new DemoPlan(
        scenario,
        users,
        simulation.events,
        rate,
        ranks,
        model,
        dataset,
        ingestPort,
        scorerPort,
        monitorPort);
  }

  /** Whether it sends until Ctrl-C rather than a set number of events. */
  public boolean untilStopped() {
    return events == 0;
  }

  public boolean poisoning() {
    return scenario.equals("poisoned-checkpoint");
  }

  public boolean badInput() {
    return scenario.equals("bad-input");
  }

  /** The model type the trainer will train: {@link #model}, else PREFSTREAM_MODEL_TYPE's. */
  public String modelType() {
    return modelType(model);
  }

  private static String modelType(String model) {
    return model != null ? model : System.getenv().getOrDefault("PREFSTREAM_MODEL_TYPE", "");
  }

  /**
   * A demo lasts a minute or so: an n-gram model checkpoints at its default (every 5 s, mostly
   * deltas), so the scorer shadows and canaries new versions while the product still sends. An
   * encoder on CPUs checkpoints every 30 s and evaluates 300 holdout pairs: each evaluation scores
   * them all.
   */
  Settings trainerDefaults() {
    if (modelType().equals("encoder")) {
      return Settings.of(
          Map.of(
              TrainerOptions.CHECKPOINT_INTERVAL.key(), "30s",
              TrainerOptions.HOLDOUT_WINDOW.key(), "300"));
    }
    return Settings.empty();
  }

  /** The local stack this run needs over {@code kafka}. */
  LocalStack.Builder stack(LocalKafka kafka, PrintWriter out) {
    return LocalStack.builder(kafka)
        .optOut(out)
        .optPort(ServiceKind.INGEST, ingestPort)
        .optPort(ServiceKind.SCORER, scorerPort)
        .optPort(ServiceKind.MONITOR, monitorPort)
        // The demo ends by draining the job (event time to its end); Flink drops that final
        // watermark from a source marked idle, and the demo's partitions all carry traffic, so
        // idleness waits longer than the demo runs.
        .optDefaults(
            ServiceKind.PAIR_BUILDER,
            Settings.of(Map.of(PairBuilderOptions.IDLE_TIMEOUT.key(), "1h")))
        .optDefaults(ServiceKind.TRAINER, trainerDefaults())
        .optForced(
            ServiceKind.TRAINER,
            model == null ? Settings.empty() : Settings.of(Map.of("model.type", model)))
        // The demo's scoring traffic is light: the monitor sees every served score. A step dwells
        // 30 fresh pairs (not 200) once the candidate is shown non-inferior, so a candidate is
        // promoted while the product still sends.
        .optDefaults(
            ServiceKind.SCORER,
            Settings.of(
                Map.of(
                    ScorerOptions.SCORE_SAMPLE.key(), "1",
                    ScorerOptions.ROLLOUT_MIN_PAIRS.key(), "30")));
  }
}
