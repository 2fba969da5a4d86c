package io.prefstream.trainer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.prefstream.model.BlockRewardModel;
import io.prefstream.model.Candidate;
import io.prefstream.model.Prepared;
import io.prefstream.model.RewardModel;
import io.prefstream.model.SparseRows;
import io.prefstream.trainer.internal.AdamW;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Trains one reward model with the Bradley-Terry loss {@code -w·log σ(r_c − r_r − margin)} (plus
 * optional reward centring) and AdamW, one micro-batch at a time. Each step first scores the fresh
 * pairs with the current parameters (the prequential outcome), then learns from them and the
 * replayed ones. A step whose loss or gradient is not finite changes nothing and is reported.
 */
public final class Learner implements AutoCloseable {

  /**
   * DJL's PyTorch engine allows one gradient collector at a time in a process: learners that train
   * side by side in one JVM (the online trainer and an offline run beside it, such as the demo's
   * poisoned checkpoint) take turns for the backward pass.
   */
  private static final ReentrantLock GRADIENTS = new ReentrantLock();

  private final RewardModel model;
  private final LearnerSettings settings;
  private final AdamW optimizer;
  private final List<Parameter> parameters;
  private final List<Parameter> frozen = new ArrayList<>();
  private long decayStart = -1;
  private double boost = 1;
  private long decayEnd = -1;

  public Learner(RewardModel model, LearnerSettings settings) {
    this.model = model;
    this.settings = settings;
    this.optimizer =
        new AdamW(
            (float) settings.learningRate(),
            (float) settings.weightDecay(),
            (float) settings.beta1(),
            (float) settings.beta2(),
            1e-8f);
    this.parameters = model.parameters();
    if (settings.passPairs() > 0 && !model.supportsPasses()) {
      throw new IllegalArgumentException(
          "trainer.pass-pairs applies to models that train a step in passes (encoder); "
              + model.spec().type()
              + " trains each step in one pass");
    }
    groups();
    attachGradients();
  }

  /**
   * Freezes the embeddings and lowest layers as configured and gives every other group its
   * layer-wise learning rate: the head the full rate, each group below {@code layer-decay} times
   * the one above.
   */
  private void groups() {
    List<List<Parameter>> groups = model.parameterGroups();
    boolean layered = groups.size() >= 3;
    if (!layered
        && (settings.freezeEmbeddings()
            || settings.freezeLayers() > 0
            || settings.layerDecay() != 1.0)) {
      throw new IllegalArgumentException(
          "trainer.freeze-embeddings, trainer.freeze-layers and trainer.layer-decay apply to"
              + " layered models (encoder); "
              + model.spec().type()
              + " has no layers");
    }
    int layers = Math.max(0, groups.size() - 2);
    if (settings.freezeLayers() > layers) {
      throw new IllegalArgumentException(
          "trainer.freeze-layers ("
              + settings.freezeLayers()
              + ") exceeds the model's "
              + layers
              + " layers");
    }
    for (int g = 0; g < groups.size(); g++) {
      boolean freeze =
          layered
              && ((g == 0 && settings.freezeEmbeddings())
                  || (g >= 1 && g <= settings.freezeLayers()));
      float scale = (float) Math.pow(settings.layerDecay(), groups.size() - 1 - g);
      for (Parameter p : groups.get(g)) {
        if (freeze) {
          p.freeze(true);
          optimizer.freeze(p);
          frozen.add(p);
        } else if (scale != 1f) {
          optimizer.scaleLearningRate(p, scale);
        }
      }
    }
  }

  public RewardModel model() {
    return model;
  }

  public long steps() {
    return optimizer.steps();
  }

  /**
   * Decays the learning rate linearly from now (or the end of warm-up) to zero at optimizer step
   * {@code endStep}, as an offline run of known length does; online it stays constant.
   */
  public void decayUntil(long endStep) {
    this.decayStart = Math.max(optimizer.steps(), settings.warmupSteps());
    this.decayEnd = endStep;
  }

  /** Starts the optimizer's moments afresh (a drift reaction; see {@link AdamW#restartMoments}). */
  public void restartMoments() {
    optimizer.restartMoments();
  }

  /** The optimizer step its moments were last started afresh at (0: never). */
  public long momentsRestartedAt() {
    return optimizer.restartedAt();
  }

  /** Restores {@link #momentsRestartedAt} from a checkpoint. */
  public void restoreMomentsRestartedAt(long step) {
    optimizer.restoreRestartedAt(step);
  }

  /** Multiplies the learning rate from the next step on (1: as scheduled); a drift reaction. */
  public void boostRate(double factor) {
    boostRate(factor, 1);
  }

  /**
   * Multiplies the learning rate from the next step on, and the output layer's by {@code output}
   * more (1, 1: as scheduled); a drift reaction.
   */
  public void boostRate(double factor, double output) {
    this.boost = factor;
    for (Parameter p : outputLayer()) {
      // The output layer is the top group: its layer-wise scale is 1.
      optimizer.scaleLearningRate(p, (float) output);
    }
  }

  /**
   * The parameters of the layer that produces the reward: the trailing trainable parameters with
   * one output row (a final {@code Linear} of one unit: its weight [1, H] and bias [1]).
   */
  List<Parameter> outputLayer() {
    List<Parameter> out = new ArrayList<>();
    for (int i = parameters.size() - 1; i >= 0; i--) {
      Parameter p = parameters.get(i);
      if (frozen.contains(p) || p.getArray().getShape().get(0) != 1) {
        break;
      }
      out.add(p);
    }
    return out;
  }

  /** The schedule's factor of the peak learning rate for the optimizer's next step. */
  double rate() {
    long step = optimizer.steps();
    double rate = 1;
    if (settings.warmupSteps() > 0 && step < settings.warmupSteps()) {
      rate = (step + 1.0) / settings.warmupSteps();
    }
    if (decayEnd > decayStart && step >= decayStart) {
      rate = Math.max(0, (decayEnd - step) / (double) (decayEnd - decayStart));
    }
    return rate * boost;
  }

  /**
   * The outcome of one step.
   *
   * @param freshCorrect fresh pairs the model ordered correctly before learning from them (ties
   *     count half)
   * @param fresh fresh pairs in the step
   * @param loss the batch's mean loss (NaN when skipped for it)
   * @param gradientNorm global gradient norm before clipping
   * @param skipped why the update was skipped, or null when it was applied
   * @param truncated fresh pairs of which a candidate lost text to the model's input limit
   */
  public record Step(
      double freshCorrect,
      int fresh,
      double loss,
      double gradientNorm,
      String skipped,
      int truncated) {
    public boolean applied() {
      return skipped == null;
    }
  }

  /** Fresh and replayed pairs featurized for one step. */
  public record Batch(List<TrainingPair> fresh, List<TrainingPair> replay, Prepared prepared) {}

  /**
   * Featurizes a step's pairs; touches no engine state, so the next step's batch can be prepared on
   * another thread while this one trains.
   */
  public Batch prepare(List<TrainingPair> fresh, List<TrainingPair> replay) {
    List<TrainingPair> batch = new ArrayList<>(fresh.size() + replay.size());
    batch.addAll(fresh);
    batch.addAll(replay);
    return new Batch(fresh, replay, model.prepare(candidates(batch)));
  }

  /** One update from {@code fresh} pairs (scored first) and {@code replay} pairs (not scored). */
  public Step step(List<TrainingPair> fresh, List<TrainingPair> replay) {
    return step(prepare(fresh, replay));
  }

  /**
   * One update from a prepared batch: its fresh pairs are scored first, then all are learned. A
   * batch larger than the pass size runs in passes of pairs of similar length (each padded only to
   * its longest member) whose gradients add up to the whole batch's, then one update.
   */
  public Step step(Batch prepared) {
    List<TrainingPair> fresh = prepared.fresh();
    List<TrainingPair> batch = new ArrayList<>(fresh.size() + prepared.replay().size());
    batch.addAll(fresh);
    batch.addAll(prepared.replay());
    int n = batch.size();
    Prepared all = prepared.prepared();
    int truncated = 0;
    for (int i = 0; i < fresh.size(); i++) {
      truncated += all.truncated(i) || all.truncated(n + i) ? 1 : 0;
    }
    float[] weights = new float[n];
    float[] margins = new float[n];
    for (int i = 0; i < n; i++) {
      weights[i] = (float) batch.get(i).weight();
      margins[i] = (float) batch.get(i).margin();
    }
    BlockRewardModel.noGrad(); // only the collector below records
    List<int[]> passes = passes(all, n);
    if (passes.size() == 1) {
      try (NDManager manager = model.newBatchManager()) {
        NDList inputs = model.inputs(manager, all);
        List<SparseRows> sparse = model.sparseRows(inputs, all).stream().toList();
        for (SparseRows rows : sparse) {
          rows.track();
        }
        Pass pass = pass(inputs, passes.get(0), fresh.size(), n, weights, margins);
        if (pass.skipped() != null) {
          return new Step(
              pass.correct(), fresh.size(), pass.loss(), Double.NaN, pass.skipped(), truncated);
        }
        return update(sparse, pass.correct(), fresh.size(), pass.loss(), truncated);
      }
    }
    double correct = 0;
    double loss = 0;
    for (int[] pairs : passes) {
      try (NDManager manager = model.newBatchManager()) {
        NDList inputs = model.inputs(manager, all.select(candidatesOf(pairs, n)));
        Pass pass = pass(inputs, pairs, fresh.size(), n, weights, margins);
        correct += pass.correct();
        if (pass.skipped() != null) {
          zeroGradients();
          return new Step(
              correct, fresh.size(), pass.loss(), Double.NaN, pass.skipped(), truncated);
        }
        loss += pass.loss();
      }
    }
    return update(List.of(), correct, fresh.size(), loss, truncated);
  }

  /**
   * The raw forward and backward passes of a step, as {@link #step(Batch)} runs them (the same
   * passes, the same padding), without scoring, clipping or updating: a benchmark's baseline. The
   * gradients are discarded.
   */
  public void forwardBackward(Batch prepared) {
    int n = prepared.fresh().size() + prepared.replay().size();
    Prepared all = prepared.prepared();
    float[] ones = new float[n];
    java.util.Arrays.fill(ones, 1f);
    BlockRewardModel.noGrad();
    for (int[] pairs : passes(all, n)) {
      try (NDManager manager = model.newBatchManager()) {
        NDList inputs =
            model.inputs(manager, pairs.length == n ? all : all.select(candidatesOf(pairs, n)));
        GRADIENTS.lock();
        try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
          NDArray rewards = model.forward(inputs, true);
          int k = pairs.length;
          collector.backward(
              loss(
                  rewards.get("0:" + k),
                  rewards.get(k + ":"),
                  manager.create(java.util.Arrays.copyOf(ones, k)),
                  manager.create(new float[k])));
        } finally {
          GRADIENTS.unlock();
        }
      }
    }
    zeroGradients();
  }

  /** What one forward-backward pass gave: fresh pairs ordered right, its share of the loss. */
  private record Pass(double correct, double loss, String skipped) {}

  /**
   * Scores a pass's fresh pairs, then runs its forward pass with gradients and its loss (weighted
   * by its share of the step's pairs) backward, adding to the parameters' gradients.
   *
   * @param pairs the step's pair indices in this pass; its inputs hold their chosen candidates,
   *     then their rejected ones
   */
  private Pass pass(
      NDList inputs, int[] pairs, int freshCount, int n, float[] weights, float[] margins) {
    int k = pairs.length;
    double correct = 0;
    boolean anyFresh = false;
    for (int p : pairs) {
      anyFresh |= p < freshCount;
    }
    boolean scoredApart = anyFresh && model.stochasticInTraining();
    if (scoredApart) {
      correct = correctAmong(model.forward(inputs, false).toFloatArray(), pairs, freshCount);
    }
    float[] w = new float[k];
    float[] m = new float[k];
    for (int i = 0; i < k; i++) {
      w[i] = weights[pairs[i]];
      m[i] = margins[pairs[i]];
    }
    NDManager manager = inputs.head().getManager();
    GRADIENTS.lock();
    try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
      NDArray rewards = model.forward(inputs, true);
      if (!scoredApart && anyFresh) {
        // No dropout: the training pass is the inference pass, before any update.
        correct = correctAmong(rewards.toFloatArray(), pairs, freshCount);
      }
      NDArray lossArray =
          loss(rewards.get("0:" + k), rewards.get(k + ":"), manager.create(w), manager.create(m))
              .mul((float) k / n);
      double loss = lossArray.getFloat();
      if (!Double.isFinite(loss)) {
        return new Pass(correct, loss, "non-finite loss");
      }
      collector.backward(lossArray);
      return new Pass(correct, loss, null);
    } finally {
      GRADIENTS.unlock();
    }
  }

  /** Clips the accumulated gradient by its global norm and applies one AdamW update. */
  private Step update(
      List<SparseRows> sparse, double correct, int fresh, double loss, int truncated) {
    double norm = gradientNorm(sparse);
    if (!Double.isFinite(norm)) {
      zeroGradients();
      return new Step(correct, fresh, loss, norm, "non-finite gradient", truncated);
    }
    float clip =
        settings.clipNorm() > 0 && norm > settings.clipNorm()
            ? (float) (settings.clipNorm() / norm)
            : 1f;
    optimizer.step(parameters, sparse, clip, (float) rate());
    return new Step(correct, fresh, loss, norm, null, truncated);
  }

  /**
   * The step's pairs in passes of at most the pass size, by length (the longer candidate of each),
   * so each pass pads little; one pass of all when the batch fits.
   */
  private List<int[]> passes(Prepared all, int n) {
    int size = settings.passPairs() > 0 ? settings.passPairs() : model.defaultPassPairs();
    if (size <= 0 || size >= n || !model.supportsPasses()) {
      int[] every = new int[n];
      for (int i = 0; i < n; i++) {
        every[i] = i;
      }
      return List.of(every);
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(
        order, java.util.Comparator.comparingInt(i -> Math.max(all.length(i), all.length(n + i))));
    List<int[]> passes = new ArrayList<>();
    for (int from = 0; from < n; from += size) {
      int[] pass = new int[Math.min(size, n - from)];
      for (int j = 0; j < pass.length; j++) {
        pass[j] = order[from + j];
      }
      passes.add(pass);
    }
    return passes;
  }

  /** The candidates of pairs: their chosen responses, then their rejected ones. */
  private static int[] candidatesOf(int[] pairs, int n) {
    int[] candidates = new int[2 * pairs.length];
    for (int i = 0; i < pairs.length; i++) {
      candidates[i] = pairs[i];
      candidates[pairs.length + i] = n + pairs[i];
    }
    return candidates;
  }

  /** Fresh pairs among {@code pairs} ordered right by rewards [chosen..., rejected...]. */
  private static double correctAmong(float[] rewards, int[] pairs, int freshCount) {
    double correct = 0;
    for (int i = 0; i < pairs.length; i++) {
      if (pairs[i] < freshCount) {
        float d = rewards[i] - rewards[pairs.length + i];
        correct += d > 0 ? 1 : d == 0 ? 0.5 : 0;
      }
    }
    return correct;
  }

  /** How many pairs the model orders correctly (ties count half), without learning. */
  public double correct(List<TrainingPair> pairs) {
    return correct(model, pairs);
  }

  /** Rewards of every chosen response, then of every rejected one. */
  public float[] scores(List<TrainingPair> pairs) {
    return scores(model, pairs);
  }

  /** How many pairs {@code model} orders correctly (ties count half). */
  public static double correct(RewardModel model, List<TrainingPair> pairs) {
    return correctCount(scores(model, pairs), pairs.size(), pairs.size());
  }

  /** {@code model}'s rewards of every chosen response, then of every rejected one. */
  public static float[] scores(RewardModel model, List<TrainingPair> pairs) {
    return model.score(candidates(pairs));
  }

  private static double correctCount(float[] rewards, int n, int first) {
    double correct = 0;
    for (int i = 0; i < first; i++) {
      float d = rewards[i] - rewards[n + i];
      correct += d > 0 ? 1 : d == 0 ? 0.5 : 0;
    }
    return correct;
  }

  /** Mean of w·softplus(−(r_c − r_r − m)) over the batch, plus c·mean((r_c + r_r)²). */
  NDArray loss(NDArray chosen, NDArray rejected, NDArray weights, NDArray margins) {
    NDArray bt = Activation.softPlus(chosen.sub(rejected).sub(margins).neg()).mul(weights).mean();
    if (settings.centerCoefficient() > 0) {
      NDArray sum = chosen.add(rejected);
      bt = bt.add(sum.mul(sum).mean().mul((float) settings.centerCoefficient()));
    }
    return bt;
  }

  private static List<Candidate> candidates(List<TrainingPair> pairs) {
    List<Candidate> list = new ArrayList<>(2 * pairs.size());
    for (TrainingPair p : pairs) {
      list.add(p.chosenCandidate());
    }
    for (TrainingPair p : pairs) {
      list.add(p.rejectedCandidate());
    }
    return list;
  }

  private double gradientNorm(List<SparseRows> sparse) {
    double sum = 0;
    for (Parameter p : parameters) {
      if (p.requiresGradient()) {
        // Every intermediate closed: they belong to the parameters' manager, which lives as long
        // as the model (one parameter-sized array a step was once left behind: 91 MB for MiniLM).
        try (NDArray grad = p.getArray().getGradient();
            NDArray square = grad.square();
            NDArray squares = square.sum()) {
          sum += squares.getFloat();
        }
      }
    }
    for (SparseRows rows : sparse) {
      for (float g : rows.gradient()) {
        sum += (double) g * g;
      }
    }
    return Math.sqrt(sum);
  }

  private void zeroGradients() {
    for (Parameter p : parameters) {
      if (p.requiresGradient()) {
        JniUtils.zeroGrad((PtNDArray) p.getArray());
      }
    }
  }

  /** Whether every parameter is finite: checked before any checkpoint is written. */
  public boolean finite() {
    for (Parameter p : parameters) {
      try (NDArray nan = p.getArray().isNaN();
          NDArray infinite = p.getArray().isInfinite();
          NDArray either = nan.logicalOr(infinite);
          NDArray bad = either.any()) {
        if (bad.getBoolean()) {
          return false;
        }
      }
    }
    return true;
  }

  public void saveParameters(OutputStream out) throws IOException {
    model.saveParameters(out);
  }

  public byte[] optimizerState() {
    return optimizer.encode(parameters);
  }

  /**
   * Whether a checkpoint may be a delta: the model's sparse tables have had their updated rows
   * tracked (from the first step on), so what changed since the last checkpoint is known.
   */
  public boolean tracksChangedRows() {
    return !optimizer.touchedWidth().isEmpty();
  }

  /** Rows of the sparse tables updated since the last checkpoint (for its figures). */
  public long changedRows() {
    return optimizer.touched().values().stream().mapToLong(java.util.BitSet::cardinality).sum();
  }

  /**
   * Writes what changed since the last checkpoint (written or restored): the sparse tables' updated
   * rows and every other parameter, and the same of the optimizer's moments ({@link
   * io.prefstream.model.checkpoint.ArrayDelta}).
   */
  public void writeDelta(
      java.io.DataOutputStream parametersOut, java.io.DataOutputStream momentsOut)
      throws IOException {
    Map<Integer, java.util.BitSet> rows = new java.util.HashMap<>();
    Map<Integer, Integer> widths = new java.util.HashMap<>();
    Map<Integer, java.util.BitSet> momentRows = new java.util.HashMap<>();
    Map<Integer, Integer> momentWidths = new java.util.HashMap<>();
    List<ai.djl.ndarray.NDArray> arrays = new ArrayList<>();
    for (int i = 0; i < parameters.size(); i++) {
      Parameter p = parameters.get(i);
      arrays.add(p.getArray());
      Integer width = optimizer.touchedWidth().get(p.getId());
      if (width != null) {
        java.util.BitSet changed =
            optimizer.touched().getOrDefault(p.getId(), new java.util.BitSet());
        rows.put(i, changed);
        widths.put(i, width);
        for (int k = 2 * i; k <= 2 * i + 1; k++) {
          momentRows.put(k, changed);
          momentWidths.put(k, width);
        }
      }
    }
    io.prefstream.model.checkpoint.ArrayDelta.write(parametersOut, arrays, rows, widths);
    io.prefstream.model.checkpoint.ArrayDelta.write(
        momentsOut, optimizer.momentArrays(parameters), momentRows, momentWidths);
  }

  /** The state now is what the checkpoint just written holds: track changes afresh. */
  public void markCheckpointed() {
    optimizer.markSaved();
  }

  /**
   * Applies a delta checkpoint's parameters and moments (as {@link #writeDelta} wrote them) on top
   * of the state restored from its parent, and takes its step count.
   */
  public void applyDelta(byte[] parametersDelta, byte[] momentsDelta, long steps)
      throws IOException {
    List<ai.djl.ndarray.NDArray> arrays = new ArrayList<>();
    for (Parameter p : parameters) {
      arrays.add(p.getArray());
    }
    io.prefstream.model.checkpoint.ArrayDelta.apply(
        new java.io.DataInputStream(new java.io.ByteArrayInputStream(parametersDelta)), arrays);
    io.prefstream.model.checkpoint.ArrayDelta.apply(
        new java.io.DataInputStream(new java.io.ByteArrayInputStream(momentsDelta)),
        optimizer.momentArrays(parameters));
    optimizer.restoreSteps(steps);
    optimizer.markSaved();
  }

  /** Restores parameters and optimizer state saved by a checkpoint. */
  public void restore(InputStream parametersIn, byte[] optimizerState, long steps)
      throws IOException {
    model.loadParameters(parametersIn);
    attachGradients();
    optimizer.restore(parameters, optimizerState, steps);
    for (Parameter p : frozen) {
      optimizer.freeze(p); // moments saved while it trained are of no use frozen
    }
    optimizer.markSaved();
  }

  private void attachGradients() {
    for (Parameter p : parameters) {
      if (p.requiresGradient()) {
        p.getArray().setRequiresGradient(true);
      }
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
