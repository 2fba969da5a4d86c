package io.prefstream.launcher.demo;

import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.RolloutAction;
import io.prefstream.avro.RolloutDecision;
import io.prefstream.avro.RolloutState;
import io.prefstream.avro.Split;
import io.prefstream.launcher.KafkaClients;
import io.prefstream.launcher.ops.CheckpointPublisher;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.schemas.Topics;
import io.prefstream.scorer.Registry;
import io.prefstream.scorer.ScorerServer;
import io.prefstream.scorer.rollout.Rollouts;
import io.prefstream.simulator.DirectPairs;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import io.prefstream.trainer.OfflineTrainer;
import io.prefstream.trainer.TrainerMetrics;
import io.prefstream.trainer.TrainerService;
import io.prefstream.trainer.TrainingPair;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * The demo's poisoned-checkpoint scenario: once the scorer serves a champion, a checkpoint trained
 * offline on poisoned data (the simulated users' own pairs with every label flipped, so it prefers
 * what they like least) is published into the trainer's store and announced, as a bad offline run
 * or a compromised pipeline would. It verifies (its digests are sound), so the rollout controller
 * takes it as a candidate like any other; the scenario then watches what the controller decides and
 * how much traffic the poisoned version ever got. The demo fails if it is promoted.
 */
final class PoisonedCheckpoint implements AutoCloseable {

  /** Label-flipped pairs it is trained on: enough to learn the users' preferences backwards. */
  static final int PAIRS = 3000;

  /**
   * Publications of it at most: each time the trainer checkpoints after it while a rollout is in
   * progress, it is published again so that it is the newest when the controller next takes one.
   */
  static final int ATTEMPTS = 40;

  private final PrintWriter out;
  private final TrainerService trainer;
  private final ScorerServer scorer;
  private final KafkaClients kafka;
  private final Topics topics;
  private final SimulatorConfig simulation;
  private final Path workDir;
  private final String tenant;
  private final String key;
  private final long startedMillis = System.currentTimeMillis();
  private final Thread thread;

  /** Every version it was published as, oldest first: any of them may be the one judged. */
  private final List<Long> published = new java.util.concurrent.CopyOnWriteArrayList<>();

  private final Map<Long, Long> publishedMillis = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile double holdoutAccuracy = Double.NaN;
  private volatile String failure;

  PoisonedCheckpoint(
      PrintWriter out,
      TrainerService trainer,
      ScorerServer scorer,
      KafkaClients kafka,
      Topics topics,
      SimulatorConfig simulation,
      Path workDir) {
    this.out = out;
    this.trainer = trainer;
    this.scorer = scorer;
    this.kafka = kafka;
    this.topics = topics;
    this.simulation = simulation;
    this.workDir = workDir;
    this.tenant = simulation.tenant();
    this.key = Registry.key(tenant, trainer.config().modelName());
    this.thread = new Thread(this::run, "prefstream-poisoner");
    this.thread.setDaemon(true);
  }

  /**
   * Starts: trains it, then publishes it as soon as a champion serves, and again whenever a newer
   * version is announced before the controller takes it.
   */
  PoisonedCheckpoint start() {
    thread.start();
    return this;
  }

  private void run() {
    try {
      Path poisoned = train();
      try (KafkaProducer<byte[], byte[]> producer = kafka.producer()) {
        awaitChampion();
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
          CheckpointPublisher.Published p =
              CheckpointPublisher.publish(
                  new DirectoryCheckpointStore(trainer.store()),
                  poisoned,
                  tenant,
                  trainer.config().modelName(),
                  producer,
                  topics,
                  Duration.ofSeconds(30));
          if (published.isEmpty()) {
            out.printf(
                "poisoned checkpoint: published v%d, trained on %d label-flipped pairs (holdout"
                    + " accuracy %.3f), its digests sound; the rollout controller judges it next%n",
                p.manifest().version(), PAIRS, holdoutAccuracy);
            out.flush();
          }
          publishedMillis.put(p.manifest().version(), System.currentTimeMillis());
          published.add(p.manifest().version());
          if (awaitTakenOrOvertaken()) {
            return;
          }
          // The trainer checkpointed after it: the controller takes the newest when its rollout
          // in progress ends and passes over older ones, so publish it again as the newest. An
          // older publication may still be the one taken (the controller's state can reach the
          // scorer's follower after the newer announcement): every publication is watched.
          if (attempt == ATTEMPTS) {
            failure =
                "overtaken "
                    + ATTEMPTS
                    + " times by the trainer's newer checkpoints before it was taken";
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      failure = e.toString();
      out.println("poisoned checkpoint: could not publish it: " + e);
      out.flush();
    }
  }

  /** Waits for a champion to compare against. */
  private void awaitChampion() throws InterruptedException {
    while (true) {
      RolloutState s = scorer.registryFollower().rollout(key);
      if (s != null && s.getChampionVersion() != null) {
        return;
      }
      Thread.sleep(100);
    }
  }

  /**
   * Waits until the controller takes one of its publications as its candidate (true) or a newer
   * version is announced or taken before the latest one is (false: it would be passed over).
   */
  private boolean awaitTakenOrOvertaken() throws InterruptedException {
    long latest = published.get(published.size() - 1);
    while (true) {
      RolloutState s = scorer.registryFollower().rollout(key);
      if (taken(s) != 0) {
        return true;
      }
      var announced = scorer.registryFollower().checkpoints(key);
      if ((s != null && Rollouts.decidedThrough(s) > latest)
          || (!announced.isEmpty() && announced.lastKey() > latest)) {
        return false;
      }
      Thread.sleep(50);
    }
  }

  /** The first of its publications the controller took as a candidate or decided on, else 0. */
  private long taken(RolloutState s) {
    if (s == null) {
      return 0;
    }
    for (RolloutDecision d : s.getHistory()) {
      if (published.contains(d.getVersion())) {
        return d.getVersion();
      }
    }
    Long candidate = s.getCandidateVersion();
    return candidate != null && published.contains(candidate) ? candidate : 0;
  }

  /** Offline training on the simulated users' pairs with chosen and rejected swapped. */
  private Path train() throws Exception {
    Simulator users = new Simulator(simulation.withSeed(simulation.seed() + 4242));
    List<TrainingPair> train = new ArrayList<>();
    List<TrainingPair> holdout = new ArrayList<>();
    for (PreferencePair pair : new DirectPairs(users, 20).next(PAIRS)) {
      PreferencePair flipped =
          PreferencePair.newBuilder(pair)
              .setChosen(pair.getRejected())
              .setRejected(pair.getChosen())
              .build();
      // Its holdout is honest (unflipped): the accuracy its manifest reports is the real one.
      (pair.getSplit() == Split.HOLDOUT ? holdout : train)
          .add(TrainingPair.of(pair.getSplit() == Split.HOLDOUT ? pair : flipped));
    }
    OfflineTrainer offline = new OfflineTrainer(trainer.config(), TrainerMetrics.inMemory());
    OfflineTrainer.Result result =
        offline.train(tenant, train, holdout, Map.of(), 1, new DirectoryCheckpointStore(workDir));
    holdoutAccuracy = result.holdoutAccuracy();
    if (result.checkpoint() == null) {
      throw new IllegalStateException("the offline run wrote no checkpoint");
    }
    return Path.of(result.checkpoint());
  }

  /**
   * The poisoned version: the publication the controller took, else the latest one, 0 before the
   * first.
   */
  long version() {
    RolloutDecision decided = decision();
    if (decided != null) {
      return decided.getVersion();
    }
    long taken = taken(scorer.registryFollower().rollout(key));
    if (taken != 0) {
      return taken;
    }
    return published.isEmpty() ? 0 : published.get(published.size() - 1);
  }

  /** Every version it was published as. */
  List<Long> versions() {
    return List.copyOf(published);
  }

  /**
   * The controller's final decision on a publication of it, or null while it has none: a promotion
   * of any publication, else the first rollback.
   */
  RolloutDecision decision() {
    RolloutState s = scorer.registryFollower().rollout(key);
    if (s == null || published.isEmpty()) {
      return null;
    }
    RolloutDecision first = null;
    for (RolloutDecision d : s.getHistory()) {
      if (!published.contains(d.getVersion())) {
        continue;
      }
      if (d.getAction() == RolloutAction.PROMOTE) {
        return d;
      }
      if (d.getAction() == RolloutAction.ROLLBACK && first == null) {
        first = d;
      }
    }
    return first;
  }

  /** Waits until it has been published and decided on, or the timeout passes. */
  boolean awaitDecision(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (failure != null) {
        return false;
      }
      if (decision() != null) {
        return true;
      }
      Thread.sleep(200);
    }
    return false;
  }

  /** Whether it could not be published or taken. */
  boolean failed() {
    return failure != null;
  }

  /** Whether it is over: decided, or failed to be published. */
  boolean settled() {
    return failure != null || decision() != null;
  }

  /** Why it was not published or judged: the failure, or no champion served. */
  String problem() {
    return failure != null ? failure : "never published: no champion served";
  }

  /**
   * The scenario's figures: the version, when it was published and decided, the decision and its
   * reason, the evidence, and the largest traffic share it was given.
   *
   * @param served best-of-N answers the live product got from any publication of it
   */
  DemoSummary.Poisoned report(long served) {
    RolloutState s = scorer.registryFollower().rollout(key);
    double maxWeight = 0;
    if (s != null) {
      for (RolloutDecision d : s.getHistory()) {
        if (published.contains(d.getVersion())
            && (d.getAction() == RolloutAction.CANDIDATE || d.getAction() == RolloutAction.STEP)) {
          maxWeight = Math.max(maxWeight, d.getWeight());
        }
      }
    }
    long version = version();
    List<Long> passedOver = published.stream().filter(v -> v != version).toList();
    RolloutDecision d = decision();
    var evidence = d == null ? null : d.getEvidence();
    Long publishedAt = publishedMillis.get(version);
    return new DemoSummary.Poisoned(
        version,
        failure,
        PAIRS,
        passedOver,
        DemoSummary.Figure.of(holdoutAccuracy),
        publishedAt != null ? (publishedAt - startedMillis) / 1000.0 : null,
        maxWeight,
        served,
        d == null
            ? "undecided"
            : d.getAction() == RolloutAction.ROLLBACK ? "rolled_back" : "promoted",
        d == null ? null : d.getReason(),
        d == null || publishedAt == null ? null : (d.getAt().toEpochMilli() - publishedAt) / 1000.0,
        evidence == null ? null : (long) evidence.getPairs(),
        evidence == null ? null : DemoSummary.Figure.of(evidence.getCandidateAccuracy()),
        evidence == null ? null : DemoSummary.Figure.of(evidence.getChampionAccuracy()),
        evidence == null ? null : evidence.getPValue());
  }

  @Override
  public void close() {
    thread.interrupt();
  }
}
