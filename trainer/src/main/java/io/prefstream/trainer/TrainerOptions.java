package io.prefstream.trainer;

import static io.prefstream.config.ConfigOption.choiceOption;
import static io.prefstream.config.ConfigOption.doubleOption;
import static io.prefstream.config.ConfigOption.durationOption;
import static io.prefstream.config.ConfigOption.intOption;
import static io.prefstream.config.ConfigOption.stringOption;

import io.prefstream.config.ConfigOption;
import io.prefstream.config.KafkaOptions;
import io.prefstream.model.ModelOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Every configuration key of the trainer, typed and defaulted; read into {@link TrainerConfig}. The
 * model's own keys ({@code model.*}) are in {@link io.prefstream.model.ModelOptions}; keys under
 * {@code kafka.} go to the Kafka clients unchanged.
 */
public final class TrainerOptions {

  // Where
  public static final ConfigOption<String> BOOTSTRAP_SERVERS =
      KafkaOptions.bootstrapServers("trainer");
  public static final ConfigOption<String> TOPIC_PREFIX = KafkaOptions.topicPrefix("trainer");
  public static final ConfigOption<String> STORE =
      stringOption(
          "trainer.store",
          "checkpoints",
          "Directory of the checkpoint store (relative paths resolve against the working directory).");
  public static final ConfigOption<String> HOST =
      stringOption(
          "trainer.host",
          "0.0.0.0",
          "Interface of the trainer's /metrics and /healthz (its meters name every tenant: keep"
              + " it from tenants).");
  public static final ConfigOption<Integer> PORT =
      intOption(
          "trainer.port",
          8083,
          0,
          65535,
          "HTTP port of the trainer's /metrics and /healthz (it takes no requests); 0 picks a free"
              + " one.");
  public static final ConfigOption<String> MODEL_NAME =
      stringOption("trainer.model-name", "reward", "Name of the trained model within each tenant.");
  public static final ConfigOption<String> TENANTS =
      stringOption(
          "trainer.tenants",
          "",
          "Comma-separated tenants whose pairs this trainer trains on; empty: every tenant. Run"
              + " one trainer per tenant (or group of tenants), each on its own GPU; pairs of"
              + " other tenants are left to their trainers.");
  public static final ConfigOption<String> SHARED_MODEL =
      stringOption(
          "trainer.shared-model",
          "",
          "When set, one model under this tenant name learns from every tenant's pairs; when empty"
              + " (the default) each tenant gets its own model and never sees another's pairs.");

  // Optimisation
  public static final ConfigOption<Double> LEARNING_RATE =
      doubleOption("trainer.learning-rate", 3e-3, 1e-7, 1.0, "AdamW step size.");
  public static final ConfigOption<Double> WEIGHT_DECAY =
      doubleOption("trainer.weight-decay", 0.01, 0.0, 1.0, "AdamW decoupled weight decay.");
  public static final ConfigOption<Double> CLIP_NORM =
      doubleOption(
          "trainer.clip-norm", 1.0, 0.0, 1e6, "Global gradient-norm bound; 0 turns clipping off.");
  public static final ConfigOption<Double> CENTER_COEFFICIENT =
      doubleOption(
          "trainer.center-coefficient",
          0.01,
          0.0,
          10.0,
          "Reward centring: adds c·mean((r_chosen + r_rejected)²) to the loss; 0 turns it off.");
  public static final ConfigOption<Integer> WARMUP_STEPS =
      intOption(
          "trainer.warmup-steps",
          0,
          0,
          Integer.MAX_VALUE,
          "Optimizer steps over which the learning rate rises linearly to trainer.learning-rate;"
              + " then it stays there online and decays linearly to zero over an offline run.");
  public static final ConfigOption<Double> LAYER_DECAY =
      doubleOption(
          "trainer.layer-decay",
          1.0,
          0.01,
          1.0,
          "Layer-wise learning-rate decay of a layered model (encoder): the head learns at the"
              + " full rate, each layer below at this factor of the one above, the embeddings"
              + " last; 1 turns it off.");
  public static final ConfigOption<String> FREEZE_EMBEDDINGS =
      choiceOption(
          "trainer.freeze-embeddings",
          "false",
          List.of("true", "false"),
          "Whether a layered model's embeddings (encoder: word, position and type tables) stay as"
              + " pretrained.");
  public static final ConfigOption<Integer> FREEZE_LAYERS =
      intOption(
          "trainer.freeze-layers",
          0,
          0,
          96,
          "How many of a layered model's lowest layers stay as pretrained.");
  public static final ConfigOption<Integer> PASS_PAIRS =
      intOption(
          "trainer.pass-pairs",
          0,
          0,
          65536,
          "Most pairs in one forward-backward pass: a larger step accumulates gradients over"
              + " passes of pairs of similar length, each padded only to its longest member; 0:"
              + " the model's choice (encoder 8, others one pass).");
  public static final ConfigOption<Integer> SEED =
      intOption("trainer.seed", 7, 0, Integer.MAX_VALUE, "Seed of initialisation and replay.");

  // Micro-batches
  public static final ConfigOption<Integer> BATCH_SIZE =
      intOption("trainer.batch-size", 128, 1, 65536, "Most fresh pairs in one optimizer step.");
  public static final ConfigOption<Duration> MAX_BATCH_DELAY =
      durationOption(
          "trainer.max-batch-delay",
          Duration.ofMillis(500),
          Duration.ofMillis(1),
          "A partial micro-batch is trained once its oldest pair has waited this long.");
  public static final ConfigOption<Double> REPLAY_SHARE =
      doubleOption(
          "trainer.replay-share",
          0.1,
          0.0,
          0.9,
          "Share of each step's pairs drawn from the replay reservoir of earlier pairs.");
  public static final ConfigOption<Integer> REPLAY_CAPACITY =
      intOption(
          "trainer.replay-capacity",
          20000,
          0,
          10_000_000,
          "Pairs kept in the replay reservoir (a uniform sample of everything trained).");
  public static final ConfigOption<Integer> REPLAY_HALF_LIFE =
      intOption(
          "trainer.replay-half-life",
          20_000,
          0,
          Integer.MAX_VALUE,
          "Recency of the replay reservoir: once it is full, a kept pair's chance to stay halves"
              + " every this many pairs trained after it (0: a uniform sample of everything"
              + " trained, which keeps pulling the model back to preferences long gone).");
  public static final ConfigOption<Double> DRIFT_DELTA =
      doubleOption(
          "trainer.drift.delta",
          0.01,
          0.0,
          1.0,
          "Concept drift on the trainer's own prequential outcomes (Page-Hinkley): the drop in"
              + " accuracy per pair tolerated as noise.");
  public static final ConfigOption<Double> DRIFT_LAMBDA =
      doubleOption(
          "trainer.drift.lambda",
          50.0,
          0.0,
          1e9,
          "Page-Hinkley threshold of the drift signal (0: no drift reaction); higher: later and"
              + " rarer signals.");
  public static final ConfigOption<Integer> DRIFT_BOOST_PAIRS =
      intOption(
          "trainer.drift.boost-pairs",
          10_000,
          0,
          100_000_000,
          "After a drift signal, for this many pairs: replay only from the most recent pairs and"
              + " train at trainer.drift.learning-rate-boost times the learning rate; the replay"
              + " sample before the signal is forgotten.");
  public static final ConfigOption<Double> DRIFT_LEARNING_RATE_BOOST =
      doubleOption(
          "trainer.drift.learning-rate-boost",
          3.0,
          1.0,
          100.0,
          "Learning-rate factor while reacting to a drift signal.");
  public static final ConfigOption<Double> DRIFT_OUTPUT_RATE_BOOST =
      doubleOption(
          "trainer.drift.output-rate-boost",
          10.0,
          1.0,
          1000.0,
          "Further learning-rate factor of the model's output layer while reacting to a drift"
              + " signal: re-weighing what the model already detects is the quickest way to new"
              + " preferences over the same traits.");
  public static final ConfigOption<Integer> PREQUENTIAL_WINDOW =
      intOption(
          "trainer.prequential-window",
          1000,
          10,
          10_000_000,
          "Recent TRAIN pairs the rolling prequential accuracy covers.");
  public static final ConfigOption<Integer> HOLDOUT_WINDOW =
      intOption(
          "trainer.holdout-window",
          2000,
          10,
          10_000_000,
          "Most recent HOLDOUT pairs kept for evaluation and the checkpoint gate.");

  // Checkpoints
  public static final ConfigOption<Integer> CHECKPOINT_STEPS =
      intOption(
          "trainer.checkpoint-steps",
          200,
          1,
          Integer.MAX_VALUE,
          "A checkpoint is due after this many optimizer steps...");
  public static final ConfigOption<Duration> CHECKPOINT_INTERVAL =
      durationOption(
          "trainer.checkpoint-interval",
          Duration.ofSeconds(5),
          Duration.ofMillis(100),
          "...or this long after the last one, whichever comes first (only when it trained since)."
              + " Checkpoints of an n-gram model are mostly deltas (trainer.full-checkpoint-every),"
              + " so a few seconds cost little.");
  public static final ConfigOption<Integer> FULL_CHECKPOINT_EVERY =
      intOption(
          "trainer.full-checkpoint-every",
          10,
          0,
          1_000_000,
          "A checkpoint whose model tracks its changed rows (ngram-mlp: the n-gram table rows its"
              + " steps touched) is a delta on its parent, holding those rows and the dense"
              + " parameters; after this many deltas in a row the next is full (0: every one"
              + " full). Loading a delta composes the chain back to its full checkpoint, each link"
              + " digest-verified.");
  public static final ConfigOption<Integer> KEEP_CHECKPOINTS =
      intOption(
          "trainer.keep-checkpoints",
          10,
          0,
          1_000_000,
          "Newest checkpoints of each model kept in the store; older ones are deleted (and their"
              + " announcements withdrawn) unless the rollouts still name them (champion,"
              + " candidate, the champion a rollback returns to). 0 keeps every checkpoint.");
  public static final ConfigOption<Double> GATE_TOLERANCE =
      doubleOption(
          "trainer.gate-tolerance",
          0.02,
          0.0,
          1.0,
          "A checkpoint is refused only when it is significantly worse than its parent (on the"
              + " same holdout pairs) by more than this: the confidence sequence's upper bound on"
              + " the accuracy difference lies below minus this.");
  public static final ConfigOption<Double> GATE_ALPHA =
      doubleOption(
          "trainer.gate-alpha",
          0.01,
          1e-9,
          0.5,
          "Error of the gate's bound: a checkpoint as good as its parent is refused with at most"
              + " this probability.");
  public static final ConfigOption<Integer> GATE_MIN_HOLDOUT =
      intOption(
          "trainer.gate-min-holdout",
          100,
          0,
          10_000_000,
          "Fewer holdout pairs than this and the accuracy gate is not applied (too noisy).");

  public static final List<ConfigOption<?>> ALL =
      List.of(
          BOOTSTRAP_SERVERS,
          TOPIC_PREFIX,
          STORE,
          HOST,
          PORT,
          MODEL_NAME,
          TENANTS,
          SHARED_MODEL,
          LEARNING_RATE,
          WEIGHT_DECAY,
          CLIP_NORM,
          CENTER_COEFFICIENT,
          WARMUP_STEPS,
          LAYER_DECAY,
          FREEZE_EMBEDDINGS,
          FREEZE_LAYERS,
          PASS_PAIRS,
          SEED,
          BATCH_SIZE,
          MAX_BATCH_DELAY,
          REPLAY_SHARE,
          REPLAY_CAPACITY,
          REPLAY_HALF_LIFE,
          DRIFT_DELTA,
          DRIFT_LAMBDA,
          DRIFT_BOOST_PAIRS,
          DRIFT_LEARNING_RATE_BOOST,
          DRIFT_OUTPUT_RATE_BOOST,
          PREQUENTIAL_WINDOW,
          HOLDOUT_WINDOW,
          CHECKPOINT_STEPS,
          CHECKPOINT_INTERVAL,
          KEEP_CHECKPOINTS,
          FULL_CHECKPOINT_EVERY,
          GATE_TOLERANCE,
          GATE_MIN_HOLDOUT,
          GATE_ALPHA);

  /**
   * Defaults that differ by model type, used where a key is not set. A pretrained encoder is
   * fine-tuned, not trained from scratch: a learning rate thirty times smaller with a warm-up,
   * layer-wise decay, smaller steps (batch 32 and 1e-4 beat batch 128 and 3e-5 on held-out HH-RLHF
   * pairs after one epoch: 0.557 against 0.541); on CPUs its steps take seconds, so it checkpoints
   * less often and keeps fewer holdout pairs to evaluate; and its checkpoints are some 270 MB
   * (weights and AdamW moments), so it keeps fewer.
   */
  public static final Map<String, Map<ConfigOption<?>, Object>> MODEL_DEFAULTS =
      Map.of(
          "encoder",
          Map.of(
              LEARNING_RATE,
              1e-4,
              BATCH_SIZE,
              32,
              WARMUP_STEPS,
              20,
              LAYER_DECAY,
              0.9,
              CHECKPOINT_INTERVAL,
              Duration.ofMinutes(2),
              HOLDOUT_WINDOW,
              500,
              KEEP_CHECKPOINTS,
              5));

  /**
   * A key's value: as set, else its default for the model type ({@link #MODEL_DEFAULTS}), else its
   * own default.
   */
  @SuppressWarnings("unchecked")
  public static <T> T get(
      io.prefstream.config.Settings settings, ConfigOption<T> option, String modelType) {
    if (settings.contains(option)) {
      return settings.get(option);
    }
    Object byModel = MODEL_DEFAULTS.getOrDefault(modelType, Map.of()).get(option);
    return byModel != null ? (T) byModel : option.defaultValue();
  }

  /** Every key a trainer reads: its own and the model's ({@code model.*}). */
  public static final List<ConfigOption<?>> WITH_MODEL =
      Stream.concat(ALL.stream(), ModelOptions.ALL.stream()).toList();

  private TrainerOptions() {}
}
