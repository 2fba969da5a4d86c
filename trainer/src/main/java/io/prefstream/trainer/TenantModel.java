package io.prefstream.trainer;

import io.prefstream.model.ModelSpec;
import io.prefstream.model.RewardModel;
import io.prefstream.model.RewardModels;
import io.prefstream.model.checkpoint.CheckpointId;
import io.prefstream.model.checkpoint.CheckpointLoader;
import io.prefstream.model.checkpoint.CheckpointStore;
import io.prefstream.model.checkpoint.Checkpoints;
import io.prefstream.model.checkpoint.CorruptCheckpointException;
import io.prefstream.model.checkpoint.Manifest;
import io.prefstream.model.ngram.NgramFeaturizer;
import io.prefstream.model.stats.PairedConfidenceSequence;
import io.prefstream.trainer.internal.Reservoir;
import io.prefstream.trainer.internal.RewardStats;
import io.prefstream.trainer.internal.RollingAccuracy;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tenant's model in training: the learner, its replay reservoir, recent holdout pairs,
 * prequential accuracy, lineage (version, parent) and the checkpoints it writes and restores. The
 * online and offline trainers both drive it, so they train and checkpoint the same way.
 */
public final class TenantModel implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TenantModel.class);
  public static final String PARAMETERS = Manifest.PARAMETERS_FILE;
  public static final String OPTIMIZER = "optimizer.bin";

  /** One daemon thread featurizing ahead of the engine, shared by all tenants' models. */
  private static final java.util.concurrent.ExecutorService FEATURIZER =
      java.util.concurrent.Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "prefstream-featurizer");
            t.setDaemon(true);
            return t;
          });

  private final String tenant;
  private final String modelName;
  private final TrainerConfig config;
  private final TrainerMetrics metrics;
  private final Learner learner;
  private final Reservoir<TrainingPair> replay;

  /** The manifest figure that records the optimizer step the moments were last restarted at. */
  static final String MOMENTS_RESTARTED_AT = "optimizer_moments_restarted_at_step";

  /** The manifest figure that records the pairs still to train while reacting to a drift. */
  static final String DRIFT_BOOST_LEFT = "drift_boost_pairs_left";

  /** The newest pairs kept apart for replay while reacting to a drift. */
  static final int RECENT_REPLAY = 2000;

  /** Prequential outcomes before the drift test may signal (its mean must settle first). */
  static final int DRIFT_MIN_PAIRS = 500;

  /** Page-Hinkley on the prequential outcomes: a drop in accuracy is concept drift. */
  private final io.prefstream.model.stats.PageHinkley drift;

  /** Pairs still to train while reacting to a drift signal (higher rate, recent replay). */
  private long driftBoostLeft;

  private long driftSignals;
  private long lastDriftAtPairs = -1;
  private final ArrayDeque<TrainingPair> holdout = new ArrayDeque<>();
  private final RollingAccuracy prequential;
  private final List<TrainingPair> pending = new ArrayList<>();
  private long pendingSince;
  private RewardModel parentModel;
  private Manifest parent;

  /** The parent's manifest digest: the link a delta checkpoint records. */
  private String parentSha256;

  private long pairsSeen;
  private long truncatedPairs;

  /** The parent's reward margin (chosen minus rejected) on holdout pairs, scored once each. */
  private final java.util.Map<TrainingPair, Float> parentMargins =
      new java.util.IdentityHashMap<>();

  /** The model's margins and rewards on the holdout pairs at its last evaluation. */
  private Scored lastEvaluated;

  private long stepsSinceCheckpoint;
  private double lastLoss = Double.NaN;
  private Instant lastCheckpoint = Instant.now();

  private TenantModel(
      String tenant,
      String modelName,
      TrainerConfig config,
      TrainerMetrics metrics,
      Learner learner) {
    this.tenant = tenant;
    this.modelName = modelName;
    this.config = config;
    this.metrics = metrics;
    this.learner = learner;
    this.replay =
        new Reservoir<>(
            config.replayCapacity(),
            config.seed() ^ tenant.hashCode(),
            config.replayHalfLife(),
            RECENT_REPLAY);
    this.drift =
        new io.prefstream.model.stats.PageHinkley(
            config.drift().delta(), config.drift().lambda(), DRIFT_MIN_PAIRS);
    this.prequential = new RollingAccuracy(config.prequentialWindow());
  }

  /** A new model: initialised at random, or an encoder with its pretrained weights. */
  public static TenantModel fresh(String tenant, TrainerConfig config, TrainerMetrics metrics) {
    ai.djl.engine.Engine.getEngine("PyTorch").setRandomSeed(config.seed());
    RewardModel model =
        RewardModels.create(
            config.model(),
            io.prefstream.model.Devices.resolve(config.device()),
            config.precision());
    return withModel(tenant, config, metrics, model);
  }

  private static TenantModel withModel(
      String tenant, TrainerConfig config, TrainerMetrics metrics, RewardModel model) {
    try {
      return new TenantModel(
          tenant, config.modelName(), config, metrics, new Learner(model, config.learner()));
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * The tenant's newest resumable checkpoint in the store whose digests verify, restored with its
   * optimizer state; corrupt ones are skipped, logged and counted, and ones the trainer did not
   * write (published from an offline run: no offsets) are passed over. Empty when none is usable.
   */
  public static java.util.Optional<TenantModel> restore(
      String tenant,
      TrainerConfig config,
      TrainerMetrics metrics,
      CheckpointStore store,
      java.util.function.Predicate<Manifest> resumable,
      java.util.function.Consumer<String> problems)
      throws IOException {
    List<CheckpointId> versions = new ArrayList<>(store.list(tenant, config.modelName()));
    java.util.Collections.reverse(versions);
    for (CheckpointId id : versions) {
      Path dir = store.fetch(id);
      Manifest manifest;
      try {
        manifest = Checkpoints.verify(dir, null);
      } catch (CorruptCheckpointException e) {
        LOG.warn("Skipping corrupt checkpoint {}: {}", id, e.getMessage());
        problems.accept(e.getMessage());
        metrics.counter("corrupt_checkpoints", tenant).increment();
        continue;
      }
      if (manifest.featurizerVersion() != NgramFeaturizer.VERSION) {
        String problem =
            String.format(
                "Not resuming from %s: its features are version %d, this build's are version %d,"
                    + " so its parameters do not fit them",
                id, manifest.featurizerVersion(), NgramFeaturizer.VERSION);
        LOG.warn(problem);
        problems.accept(problem);
        continue;
      }
      if (!resumable.test(manifest)) {
        LOG.info("Not resuming from {}: it was published from elsewhere (no pairs offsets)", id);
        continue;
      }
      TenantModel restored;
      try {
        restored = fromCheckpoint(tenant, config, metrics, dir, manifest);
      } catch (CorruptCheckpointException e) {
        LOG.warn("Skipping checkpoint {}: {}", id, e.getMessage());
        problems.accept(e.getMessage());
        metrics.counter("corrupt_checkpoints", tenant).increment();
        continue;
      }
      LOG.info(
          "Restored {} (pairs seen {}, {} optimizer steps); resuming after its offsets",
          id,
          manifest.pairsSeen(),
          manifest.steps());
      return java.util.Optional.of(restored);
    }
    return java.util.Optional.empty();
  }

  static TenantModel fromCheckpoint(
      String tenant, TrainerConfig config, TrainerMetrics metrics, Path dir, Manifest manifest)
      throws IOException {
    ModelSpec spec = manifest.spec();
    if (!spec.equals(config.model())) {
      LOG.warn(
          "Checkpoint {} was built as {} {}; it continues so (configured: {} {})",
          manifest.id(),
          spec.type(),
          spec.config(),
          config.model().type(),
          config.model().config());
    }
    ai.djl.engine.Engine.getEngine("PyTorch").setRandomSeed(config.seed());
    ai.djl.Device device = io.prefstream.model.Devices.resolve(config.device());
    // A delta is restored from its chain: the full checkpoint's state, then each delta in turn
    // (every link verified first, so a broken chain refuses before a model is built).
    List<Checkpoints.Link> chain = Checkpoints.chain(dir, manifest);
    Checkpoints.Link root = chain.get(0);
    byte[] parameters = CheckpointLoader.read(root, PARAMETERS);
    byte[] optimizer = CheckpointLoader.read(root, OPTIMIZER);
    List<byte[][]> deltas = new ArrayList<>();
    for (Checkpoints.Link link : chain.subList(1, chain.size())) {
      deltas.add(
          new byte[][] {
            CheckpointLoader.read(link, Manifest.DELTA_FILE),
            CheckpointLoader.read(link, Manifest.OPTIMIZER_DELTA_FILE)
          });
    }
    TenantModel model =
        withModel(
            tenant,
            config.withModel(spec),
            metrics,
            RewardModels.forCheckpoint(spec, device, config.precision(), dir));
    model.learner.restore(new ByteArrayInputStream(parameters), optimizer, root.manifest().steps());
    for (int i = 0; i < deltas.size(); i++) {
      model.learner.applyDelta(
          deltas.get(i)[0], deltas.get(i)[1], chain.get(i + 1).manifest().steps());
    }
    model.learner.restoreMomentsRestartedAt(
        manifest.metrics().getOrDefault(MOMENTS_RESTARTED_AT, 0.0).longValue());
    model.parent = manifest;
    model.parentSha256 = Checkpoints.sha256(dir.resolve(Manifest.FILE_NAME));
    model.pairsSeen = manifest.pairsSeen();
    // A drift reaction under way goes on where it was (its signal count and position too).
    model.driftSignals = manifest.metrics().getOrDefault("drift_signals", 0.0).longValue();
    model.lastDriftAtPairs =
        manifest.metrics().getOrDefault("drift_signal_at_pairs", -1.0).longValue();
    model.driftBoostLeft = manifest.metrics().getOrDefault(DRIFT_BOOST_LEFT, 0.0).longValue();
    if (model.driftBoostLeft > 0) {
      model.learner.boostRate(config.drift().learningRateBoost(), config.drift().outputRateBoost());
    }
    model.parentModel = RewardModels.forCheckpoint(spec, device, config.precision(), dir);
    CheckpointLoader.loadParameters(model.parentModel, chain);
    return model;
  }

  public String tenant() {
    return tenant;
  }

  public Learner learner() {
    return learner;
  }

  /** The last checkpoint written or restored, if any. */
  public java.util.Optional<Manifest> parent() {
    return java.util.Optional.ofNullable(parent);
  }

  public long pairsSeen() {
    return pairsSeen;
  }

  public double prequentialAccuracy() {
    return prequential.rolling();
  }

  public double prequentialOverall() {
    return prequential.overall();
  }

  public double lastLoss() {
    return lastLoss;
  }

  /** Pairs trained (not replayed) of which a candidate lost text to the model's input limit. */
  public long truncatedPairs() {
    return truncatedPairs;
  }

  /** Queues a TRAIN pair for the next micro-batch. */
  public void addTrain(TrainingPair pair, long nowMillis) {
    if (pending.isEmpty()) {
      pendingSince = nowMillis;
    }
    pending.add(pair);
  }

  /** Keeps a HOLDOUT pair for evaluation (never trained on). */
  public void addHoldout(TrainingPair pair) {
    holdout.addLast(pair);
    while (holdout.size() > config.holdoutWindow()) {
      holdout.removeFirst();
    }
    metrics.counter("holdout_pairs", tenant).increment();
  }

  public boolean batchDue(long nowMillis) {
    return pending.size() >= config.batchSize()
        || (!pending.isEmpty() && nowMillis - pendingSince >= config.maxBatchDelay().toMillis());
  }

  public int pendingCount() {
    return pending.size();
  }

  /**
   * Trains everything queued, in steps of at most batch-size fresh pairs plus replay. The next
   * step's pairs are featurized on another thread while the engine trains the current one.
   */
  public void trainPending() {
    List<List<TrainingPair>> chunks = new ArrayList<>();
    for (int from = 0; from < pending.size(); from += config.batchSize()) {
      chunks.add(pending.subList(from, Math.min(pending.size(), from + config.batchSize())));
    }
    java.util.concurrent.Future<Learner.Batch> next = prepare(chunks.get(0));
    for (int c = 0; c < chunks.size(); c++) {
      Learner.Batch batch = await(next);
      if (c + 1 < chunks.size()) {
        next = prepare(chunks.get(c + 1));
      }
      List<TrainingPair> fresh = batch.fresh();
      Learner.Step step = learner.step(batch);
      prequential.add(step.freshCorrect(), step.fresh());
      reactToDrift(step);
      pairsSeen += fresh.size();
      truncatedPairs += step.truncated();
      metrics.counter("pairs_trained", tenant).increment(fresh.size());
      if (step.truncated() > 0) {
        metrics.counter("truncated_pairs", tenant).increment(step.truncated());
      }
      if (step.applied()) {
        stepsSinceCheckpoint++;
        lastLoss = step.loss();
        metrics.counter("steps", tenant).increment();
      } else {
        LOG.warn(
            "Skipped a step of {} pairs for tenant {}: {}", fresh.size(), tenant, step.skipped());
        metrics.counter("skipped_steps", tenant, "reason", step.skipped()).increment();
      }
      for (TrainingPair p : fresh) {
        replay.offer(p);
      }
    }
    pending.clear();
    metrics.gauge("prequential_accuracy", tenant, prequential.rolling());
    metrics.gauge("loss", tenant, lastLoss);
  }

  /**
   * Feeds the step's prequential outcomes to the drift test; on a signal, forgets the replay sample
   * but the newest pairs (pairs of the old preferences would pull the model back), starts the
   * optimizer's moments afresh (second moments of the old regime's gradients would keep its steps
   * small for thousands of steps) and, for {@code trainer.drift.boost-pairs} pairs, trains at a
   * higher rate with replay from the newest pairs. (Shrinking the weights as well, Ash and Adams'
   * shrink-and-perturb, was tried and did not help: 13,500 post-shift pairs to regain with ×0.5,
   * 19,000 with ×0.2.)
   */
  private void reactToDrift(Learner.Step step) {
    if (driftBoostLeft > 0) {
      driftBoostLeft -= step.fresh();
      if (driftBoostLeft <= 0) {
        learner.boostRate(1);
        LOG.info("Drift reaction of {} over after {} pairs", tenant, config.drift().boostPairs());
      }
    }
    if (!config.drift().enabled() || step.fresh() == 0) {
      return;
    }
    double accuracy = step.freshCorrect() / step.fresh();
    boolean signal = false;
    for (int i = 0; i < step.fresh(); i++) {
      signal |= drift.add(accuracy);
    }
    if (!signal) {
      return;
    }
    driftSignals++;
    lastDriftAtPairs = pairsSeen;
    driftBoostLeft = config.drift().boostPairs();
    replay.forgetAllButRecent();
    learner.restartMoments();
    learner.boostRate(config.drift().learningRateBoost(), config.drift().outputRateBoost());
    metrics.counter("concept_drift_signals", tenant).increment();
    LOG.warn(
        "Concept drift for {}: prequential accuracy fell (rolling {}); replaying only recent pairs"
            + " and training at {}x the learning rate for {} pairs",
        tenant,
        String.format("%.3f", prequential.rolling()),
        config.drift().learningRateBoost(),
        config.drift().boostPairs());
  }

  public boolean checkpointDue(Instant now) {
    return stepsSinceCheckpoint >= config.checkpointSteps()
        || (stepsSinceCheckpoint > 0
            && !now.isBefore(lastCheckpoint.plus(config.checkpointInterval())));
  }

  /**
   * Holdout accuracy of the model in training and of its parent, on the same pairs, with a
   * confidence bound on their difference (NaN without a parent).
   *
   * @param upper the difference (model minus parent) is at most this, except with probability
   *     {@code trainer.gate-alpha} ({@link PairedConfidenceSequence}, tuned for these n pairs)
   */
  public record Evaluation(double accuracy, double parentAccuracy, int n, double upper) {}

  public Evaluation evaluate() {
    List<TrainingPair> pairs = new ArrayList<>(holdout);
    if (pairs.isEmpty()) {
      lastEvaluated = null;
      return new Evaluation(Double.NaN, Double.NaN, 0, Double.NaN);
    }
    float[] rewards;
    if (lastEvaluated != null
        && lastEvaluated.steps() == learner.steps()
        && lastEvaluated.pairs().equals(pairs)) {
      rewards = lastEvaluated.rewards(); // nothing trained and the same pairs since
    } else {
      rewards = learner.scores(pairs);
      lastEvaluated = new Scored(pairs, rewards, learner.steps());
    }
    float[] ownMargins = margins(rewards, pairs.size());
    double own = correct(ownMargins);
    double before = Double.NaN;
    double upper = Double.NaN;
    if (parentModel != null) {
      // The parent never changes between checkpoints: each holdout pair is scored by it once.
      parentMargins.keySet().retainAll(identity(pairs).keySet());
      List<TrainingPair> unscored = new ArrayList<>();
      for (TrainingPair p : pairs) {
        if (!parentMargins.containsKey(p)) {
          unscored.add(p);
        }
      }
      if (!unscored.isEmpty()) {
        float[] m = margins(Learner.scores(parentModel, unscored), unscored.size());
        for (int i = 0; i < m.length; i++) {
          parentMargins.put(unscored.get(i), m[i]);
        }
      }
      float[] parent = new float[pairs.size()];
      for (int i = 0; i < parent.length; i++) {
        parent[i] = parentMargins.get(pairs.get(i));
      }
      before = correct(parent);
      PairedConfidenceSequence difference =
          new PairedConfidenceSequence(config.gateAlpha(), pairs.size());
      for (int i = 0; i < parent.length; i++) {
        difference.add(outcome(ownMargins[i]) - outcome(parent[i]));
      }
      upper = difference.upper();
    }
    return new Evaluation(own / pairs.size(), before / pairs.size(), pairs.size(), upper);
  }

  /**
   * Holdout pairs and the rewards the model gave them (chosen ones, then rejected ones) after
   * {@code steps} optimizer steps.
   */
  private record Scored(List<TrainingPair> pairs, float[] rewards, long steps) {}

  /**
   * The model's reward margins (chosen minus rejected) on these pairs, reusing its scores of the
   * holdout pairs where it has not trained since evaluating them.
   */
  public float[] margins(List<TrainingPair> pairs) {
    java.util.Map<TrainingPair, Float> known = new java.util.IdentityHashMap<>();
    if (lastEvaluated != null && lastEvaluated.steps() == learner.steps()) {
      float[] m = margins(lastEvaluated.rewards(), lastEvaluated.pairs().size());
      for (int i = 0; i < m.length; i++) {
        known.put(lastEvaluated.pairs().get(i), m[i]);
      }
    }
    List<TrainingPair> unscored = new ArrayList<>();
    for (TrainingPair p : pairs) {
      if (!known.containsKey(p)) {
        unscored.add(p);
      }
    }
    if (!unscored.isEmpty()) {
      float[] m = margins(learner.scores(unscored), unscored.size());
      for (int i = 0; i < m.length; i++) {
        known.put(unscored.get(i), m[i]);
      }
    }
    float[] out = new float[pairs.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = known.get(pairs.get(i));
    }
    return out;
  }

  /** The share of pairs the model orders right (ties half), as {@link #margins} gives them. */
  public double accuracy(List<TrainingPair> pairs) {
    return pairs.isEmpty() ? Double.NaN : correct(margins(pairs)) / pairs.size();
  }

  private static java.util.Map<TrainingPair, Boolean> identity(List<TrainingPair> pairs) {
    java.util.Map<TrainingPair, Boolean> m = new java.util.IdentityHashMap<>();
    for (TrainingPair p : pairs) {
      m.put(p, Boolean.TRUE);
    }
    return m;
  }

  private static float[] margins(float[] rewards, int n) {
    float[] m = new float[n];
    for (int i = 0; i < n; i++) {
      m[i] = rewards[i] - rewards[n + i];
    }
    return m;
  }

  private static double correct(float[] margins) {
    double c = 0;
    for (float d : margins) {
      c += outcome(d);
    }
    return c;
  }

  private static double outcome(float margin) {
    return margin > 0 ? 1 : margin == 0 ? 0.5 : 0;
  }

  /** What happened to a due checkpoint. */
  public record Outcome(Manifest manifest, String manifestSha256, URI uri, String refused) {
    public boolean written() {
      return refused == null;
    }
  }

  /**
   * Writes a checkpoint if the gates pass: parameters finite, and not significantly worse than the
   * parent on the same holdout pairs by more than the tolerance (the upper confidence bound on the
   * accuracy difference below minus the tolerance refuses it; a small sample is not enough).
   *
   * @param offsets the pairs offsets everything trained so far came from
   */
  public Outcome checkpoint(
      CheckpointStore store, List<Manifest.Offset> offsets, Map<String, Double> extraMetrics)
      throws IOException {
    lastCheckpoint = Instant.now();
    if (!learner.finite()) {
      metrics.counter("checkpoints_refused", tenant, "reason", "non-finite").increment();
      return new Outcome(null, null, null, "non-finite parameters");
    }
    Evaluation eval = evaluate();
    if (parent != null
        && eval.n() >= config.gateMinHoldout()
        && eval.upper() < -config.gateTolerance()) {
      metrics.counter("checkpoints_refused", tenant, "reason", "holdout").increment();
      String why =
          String.format(
              "holdout accuracy %.4f is significantly below the parent's %.4f on %d pairs: the"
                  + " difference is at most %+.4f, below −%.3f (confidence sequence, error %.2g)",
              eval.accuracy(),
              eval.parentAccuracy(),
              eval.n(),
              eval.upper(),
              config.gateTolerance(),
              config.gateAlpha());
      LOG.warn("Not publishing a checkpoint for {}: {}", tenant, why);
      return new Outcome(null, null, null, why);
    }
    Path staged = store.newStagingDirectory();
    // A delta (what changed since the parent) unless a full one is due: every
    // trainer.full-checkpoint-every deltas, or when the changed rows are not known.
    int depth = parent == null || !parent.hasDelta() ? 0 : parent.delta().depth();
    boolean delta =
        parent != null
            && parentSha256 != null
            && config.fullCheckpointEvery() > 0
            && depth < config.fullCheckpointEvery()
            && learner.tracksChangedRows();
    long changedRows = learner.changedRows();
    ByteArrayOutputStream parameters = new ByteArrayOutputStream();
    if (delta) {
      ByteArrayOutputStream moments = new ByteArrayOutputStream();
      learner.writeDelta(
          new java.io.DataOutputStream(parameters), new java.io.DataOutputStream(moments));
      Files.write(staged.resolve(Manifest.DELTA_FILE), parameters.toByteArray());
      Files.write(staged.resolve(Manifest.OPTIMIZER_DELTA_FILE), moments.toByteArray());
    } else {
      learner.saveParameters(parameters);
      Files.write(staged.resolve(PARAMETERS), parameters.toByteArray());
      Files.write(staged.resolve(OPTIMIZER), learner.optimizerState());
    }
    learner.model().saveAssets(staged);
    long bytes;
    try (var files = Files.list(staged)) {
      bytes = files.mapToLong(f -> f.toFile().length()).sum();
    }
    Map<String, Double> m = new LinkedHashMap<>(extraMetrics);
    m.put("checkpoint_bytes", (double) bytes);
    m.put("drift_signals", (double) driftSignals);
    if (lastDriftAtPairs >= 0) {
      m.put("drift_signal_at_pairs", (double) lastDriftAtPairs);
    }
    m.put("learning_rate_boost", driftBoostLeft > 0 ? config.drift().learningRateBoost() : 1.0);
    m.put("output_rate_boost", driftBoostLeft > 0 ? config.drift().outputRateBoost() : 1.0);
    if (driftBoostLeft > 0) {
      m.put(DRIFT_BOOST_LEFT, (double) driftBoostLeft);
    }
    m.put(MOMENTS_RESTARTED_AT, (double) learner.momentsRestartedAt());
    m.put("changed_rows", (double) changedRows);
    m.put("prequential_accuracy", prequential.rolling());
    m.put("prequential_accuracy_overall", prequential.overall());
    m.put("holdout_accuracy", eval.accuracy());
    m.put("holdout_pairs", (double) eval.n());
    m.put("parent_holdout_accuracy", eval.parentAccuracy());
    m.put("loss", lastLoss);
    m.values().removeIf(v -> !Double.isFinite(v));
    RewardStats stats = RewardStats.of(referenceRewards(lastEvaluated));
    Long parentVersion = parent == null ? null : parent.version();
    LongFunction<Manifest> manifest =
        version ->
            new Manifest(
                Manifest.FORMAT,
                tenant,
                modelName,
                version,
                parentVersion,
                learner.model().spec().type(),
                learner.model().spec().config(),
                NgramFeaturizer.VERSION,
                m,
                stats.mean(),
                stats.std(),
                stats.histogram(),
                offsets,
                pairsSeen,
                learner.steps(),
                List.of(),
                Instant.now().toString(),
                delta ? new Manifest.Delta(depth + 1, parentSha256) : null);
    // The next version, even if another writer (checkpoint publish) took the one after ours.
    CheckpointStore.Committed committed = store.commitNext(staged, tenant, modelName, manifest);
    Checkpoints.Sealed sealed = committed.sealed();
    URI uri = committed.uri();
    parent = sealed.manifest();
    parentSha256 = sealed.sha256();
    learner.markCheckpointed();
    if (delta && parentModel != null) {
      // The parent model moves to this checkpoint by the same delta.
      List<ai.djl.ndarray.NDArray> arrays = new ArrayList<>();
      for (ai.djl.nn.Parameter p : parentModel.parameters()) {
        arrays.add(p.getArray());
      }
      io.prefstream.model.checkpoint.ArrayDelta.apply(
          new java.io.DataInputStream(new ByteArrayInputStream(parameters.toByteArray())), arrays);
    } else {
      if (parentModel == null) {
        parentModel =
            RewardModels.forCheckpoint(
                learner.model().spec(),
                learner.model().device(),
                config.precision(),
                store.fetch(sealed.manifest().id()));
      }
      if (delta) {
        ByteArrayOutputStream full = new ByteArrayOutputStream();
        learner.saveParameters(full);
        parameters = full;
      }
      parentModel.loadParameters(new ByteArrayInputStream(parameters.toByteArray()));
    }
    // The new parent is the model as just evaluated: its holdout margins are known.
    parentMargins.clear();
    if (lastEvaluated != null) {
      float[] evaluated = margins(lastEvaluated.rewards(), lastEvaluated.pairs().size());
      for (int i = 0; i < evaluated.length; i++) {
        parentMargins.put(lastEvaluated.pairs().get(i), evaluated[i]);
      }
    }
    stepsSinceCheckpoint = 0;
    metrics.counter("checkpoints_written", tenant).increment();
    metrics.gauge("holdout_accuracy", tenant, eval.accuracy());
    return new Outcome(sealed.manifest(), sealed.sha256(), uri, null);
  }

  /**
   * Rewards of recent candidates (the holdout pairs as just evaluated, and replayed pairs up to
   * 1,000 pairs): the normalisation reference.
   */
  private float[] referenceRewards(Scored evaluated) {
    float[] held = evaluated == null ? new float[0] : evaluated.rewards();
    List<TrainingPair> sample = replay.sample(Math.max(0, 1000 - held.length / 2));
    float[] replayed = sample.isEmpty() ? new float[0] : learner.scores(sample);
    float[] all = java.util.Arrays.copyOf(held, held.length + replayed.length);
    System.arraycopy(replayed, 0, all, held.length, replayed.length);
    return all;
  }

  /** Featurizes a chunk with its replay sample (drawn now, in order) on the featurizer thread. */
  private java.util.concurrent.Future<Learner.Batch> prepare(List<TrainingPair> fresh) {
    int replayCount =
        replay.size() == 0
            ? 0
            : (int) Math.round(fresh.size() * config.replayShare() / (1 - config.replayShare()));
    List<TrainingPair> replayed =
        driftBoostLeft > 0 ? replay.sampleRecent(replayCount) : replay.sample(replayCount);
    return FEATURIZER.submit(() -> learner.prepare(fresh, replayed));
  }

  private static Learner.Batch await(java.util.concurrent.Future<Learner.Batch> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while featurizing a batch", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("featurizing a batch failed: " + e.getCause(), e.getCause());
    }
  }

  @Override
  public void close() {
    learner.close();
    if (parentModel != null) {
      parentModel.close();
    }
  }
}
