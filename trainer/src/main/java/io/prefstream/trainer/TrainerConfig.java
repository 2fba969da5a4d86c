package io.prefstream.trainer;

import static io.prefstream.trainer.TrainerOptions.*;

import io.prefstream.config.Settings;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The trainer's configuration, immutable; see {@link TrainerOptions} for each key.
 *
 * @param bootstrapServers Kafka bootstrap servers
 * @param topicPrefix prefix of every prefstream topic
 * @param store checkpoint store directory
 * @param modelName the trained model's name within each tenant
 * @param tenants the tenants whose pairs this trainer trains on, empty for every tenant
 * @param sharedModel tenant name of one model shared by all tenants, or empty for one per tenant
 * @param model the reward model to build
 * @param device model.device: auto, cpu or gpu
 * @param engineThreads model.engine-threads: the engine's intra-op threads, 0 for automatic
 * @param precision model.precision: the type the model computes in (fp32, fp16)
 * @param learner optimisation settings
 * @param seed initialisation and replay seed
 * @param batchSize most fresh pairs per step
 * @param maxBatchDelay longest wait of a pair for its micro-batch
 * @param replayShare share of replayed pairs in each step
 * @param replayCapacity replay reservoir size
 * @param replayHalfLife pairs after which a kept replay pair's chance to stay halves (0: uniform)
 * @param drift the reaction to a drop of the prequential accuracy (concept drift)
 * @param prequentialWindow pairs in the rolling prequential accuracy
 * @param holdoutWindow holdout pairs kept
 * @param checkpointSteps steps between checkpoints
 * @param checkpointInterval time between checkpoints
 * @param keepCheckpoints newest checkpoints kept per model (0: all)
 * @param fullCheckpointEvery deltas between full checkpoints (0: every checkpoint full)
 * @param gateTolerance holdout-accuracy drop allowed against the parent
 * @param gateMinHoldout holdout pairs needed for the accuracy gate
 * @param gateAlpha error of the gate's confidence bound on the accuracy difference
 * @param kafka Kafka client properties passed through ({@code kafka.*}, prefix removed)
 */
public record TrainerConfig(
    String bootstrapServers,
    String topicPrefix,
    Path store,
    String modelName,
    Set<String> tenants,
    String sharedModel,
    ModelSpec model,
    String device,
    int engineThreads,
    String precision,
    LearnerSettings learner,
    int seed,
    int batchSize,
    Duration maxBatchDelay,
    double replayShare,
    int replayCapacity,
    int replayHalfLife,
    Drift drift,
    int prequentialWindow,
    int holdoutWindow,
    int checkpointSteps,
    Duration checkpointInterval,
    int keepCheckpoints,
    int fullCheckpointEvery,
    double gateTolerance,
    int gateMinHoldout,
    double gateAlpha,
    Map<String, String> kafka) {

  public TrainerConfig {
    tenants = Set.copyOf(tenants);
    kafka = Map.copyOf(kafka);
    if (!precision.equals("fp32")) {
      throw new IllegalArgumentException(
          "model.precision="
              + precision
              + ": a trainer trains in fp32 (DJL's PyTorch engine casts types outside autograd, so"
              + " an fp16 pass cannot train float32 parameters); set it on scorers");
    }
  }

  public static TrainerConfig defaults() {
    return from(Settings.empty());
  }

  /**
   * Reads every {@code trainer.*} and {@code model.*} key (failing on unknown ones) and {@code
   * kafka.*}.
   */
  public static TrainerConfig from(Settings s) {
    s.requireKnown("trainer.", TrainerOptions.ALL);
    ModelSpec model = ModelSpec.from(s);
    String type = model.type();
    return new TrainerConfig(
        s.get(BOOTSTRAP_SERVERS),
        s.get(TOPIC_PREFIX),
        Path.of(s.get(STORE)),
        s.get(MODEL_NAME),
        tenants(s.get(TENANTS)),
        s.get(SHARED_MODEL),
        model,
        s.get(ModelOptions.DEVICE),
        s.get(ModelOptions.ENGINE_THREADS),
        s.get(ModelOptions.PRECISION),
        new LearnerSettings(
            get(s, LEARNING_RATE, type),
            get(s, WEIGHT_DECAY, type),
            0.9,
            0.999,
            get(s, CLIP_NORM, type),
            get(s, CENTER_COEFFICIENT, type),
            get(s, WARMUP_STEPS, type),
            get(s, LAYER_DECAY, type),
            get(s, FREEZE_EMBEDDINGS, type).equals("true"),
            get(s, FREEZE_LAYERS, type),
            get(s, PASS_PAIRS, type)),
        get(s, SEED, type),
        get(s, BATCH_SIZE, type),
        get(s, MAX_BATCH_DELAY, type),
        get(s, REPLAY_SHARE, type),
        get(s, REPLAY_CAPACITY, type),
        get(s, REPLAY_HALF_LIFE, type),
        new Drift(
            get(s, DRIFT_DELTA, type),
            get(s, DRIFT_LAMBDA, type),
            get(s, DRIFT_BOOST_PAIRS, type),
            get(s, DRIFT_LEARNING_RATE_BOOST, type),
            get(s, DRIFT_OUTPUT_RATE_BOOST, type)),
        get(s, PREQUENTIAL_WINDOW, type),
        get(s, HOLDOUT_WINDOW, type),
        get(s, CHECKPOINT_STEPS, type),
        get(s, CHECKPOINT_INTERVAL, type),
        get(s, KEEP_CHECKPOINTS, type),
        get(s, FULL_CHECKPOINT_EVERY, type),
        get(s, GATE_TOLERANCE, type),
        get(s, GATE_MIN_HOLDOUT, type),
        get(s, GATE_ALPHA, type),
        s.under("kafka."));
  }

  /** This configuration with another model (e.g. the one a restored checkpoint was built as). */
  public TrainerConfig withModel(ModelSpec other) {
    return new TrainerConfig(
        bootstrapServers,
        topicPrefix,
        store,
        modelName,
        tenants,
        sharedModel,
        other,
        device,
        engineThreads,
        precision,
        learner,
        seed,
        batchSize,
        maxBatchDelay,
        replayShare,
        replayCapacity,
        replayHalfLife,
        drift,
        prequentialWindow,
        holdoutWindow,
        checkpointSteps,
        checkpointInterval,
        keepCheckpoints,
        fullCheckpointEvery,
        gateTolerance,
        gateMinHoldout,
        gateAlpha,
        kafka);
  }

  /**
   * How the trainer reacts to concept drift: a Page-Hinkley test on its prequential outcomes
   * ({@code delta}, {@code lambda}; lambda 0 turns it off), and for {@code boostPairs} pairs after
   * a signal a learning rate {@code learningRateBoost} times higher (the output layer's {@code
   * outputRateBoost} times more) and replay from recent pairs.
   */
  public record Drift(
      double delta,
      double lambda,
      int boostPairs,
      double learningRateBoost,
      double outputRateBoost) {
    public boolean enabled() {
      return lambda > 0;
    }
  }

  /** Whether this trainer trains on {@code tenant}'s pairs (trainer.tenants). */
  public boolean trains(String tenant) {
    return tenants.isEmpty() || tenants.contains(tenant);
  }

  private static Set<String> tenants(String list) {
    return Arrays.stream(list.split(","))
        .map(String::strip)
        .filter(t -> !t.isEmpty())
        .collect(Collectors.toUnmodifiableSet());
  }

  /** The tenant name whose model learns from {@code tenant}'s pairs. */
  public String modelTenant(String tenant) {
    return sharedModel.isEmpty() ? tenant : sharedModel;
  }
}
