package io.prefstream.model;

import static io.prefstream.config.ConfigOption.choiceOption;
import static io.prefstream.config.ConfigOption.doubleOption;
import static io.prefstream.config.ConfigOption.intOption;

import io.prefstream.config.ConfigOption;
import java.util.List;

/**
 * Every configuration key of the reward models, typed and defaulted. A checkpoint records the
 * values its model was built with, so the scorer builds the same model.
 */
public final class ModelOptions {

  public static final ConfigOption<String> TYPE =
      choiceOption(
          "model.type",
          "ngram-mlp",
          List.of("ngram-mlp", "embed-mlp", "transformer"),
          "Which reward model: ngram-mlp (hashed n-grams and structure features, the CPU default),"
              + " embed-mlp (a frozen ONNX sentence encoder and a trained MLP head), transformer"
              + " (a small transformer encoder trained from scratch, for GPUs).");
  public static final ConfigOption<String> DEVICE =
      choiceOption(
          "model.device",
          "auto",
          List.of("auto", "cpu", "gpu"),
          "Where the model runs: auto takes a GPU when the engine sees one.");
  public static final ConfigOption<Integer> ENGINE_THREADS =
      intOption(
          "model.engine-threads",
          0,
          0,
          4096,
          "The engine's (libtorch's) intra-op threads. 0 (auto): one fewer than the cores for"
              + " ngram-mlp and embed-mlp, whose featurizing (n-grams, the encoder) keeps a core"
              + " busy beside the engine, and every core for transformer.");

  // ngram-mlp
  public static final ConfigOption<Integer> BUCKETS =
      intOption(
          "model.buckets",
          1 << 17,
          1 << 8,
          1 << 22,
          "Rows of the hashed n-gram embedding table; collisions fall as it grows.");
  public static final ConfigOption<Integer> EMBEDDING_DIM =
      intOption("model.embedding-dim", 32, 1, 1024, "Width of each n-gram embedding.");
  public static final ConfigOption<Integer> HIDDEN =
      intOption("model.hidden", 128, 1, 8192, "Width of the MLP's hidden layer.");
  public static final ConfigOption<Double> DROPOUT =
      doubleOption("model.dropout", 0.0, 0.0, 0.9, "Dropout rate of the hidden layer in training.");
  public static final ConfigOption<Integer> MAX_FEATURES =
      intOption(
          "model.max-features",
          384,
          8,
          65536,
          "Most distinct n-grams kept per text; longer texts keep a stable hash sample.");
  public static final ConfigOption<Integer> CHAR_NGRAM =
      intOption(
          "model.char-ngram",
          3,
          0,
          8,
          "Length of the character n-grams taken inside words; 0 turns them off.");

  // embed-mlp
  public static final ConfigOption<String> ENCODER =
      choiceOption(
          "model.encoder",
          "minilm-q",
          List.of("minilm-q", "bge-small"),
          "embed-mlp's frozen encoder: minilm-q (all-MiniLM-L6-v2 quantized, 384-d, 128 tokens) or"
              + " bge-small (bge-small-en-v1.5, 384-d, 512 tokens, ~5x slower).");
  public static final ConfigOption<Integer> ENCODER_SESSIONS =
      intOption(
          "model.encoder-sessions",
          Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())),
          1,
          64,
          "Parallel ONNX sessions of one thread each (one per core beats one session with many"
              + " threads).");
  public static final ConfigOption<Integer> EMBEDDING_CACHE =
      intOption(
          "model.embedding-cache",
          200_000,
          0,
          100_000_000,
          "Texts whose embeddings are kept (by text hash), so replayed and re-scored texts are"
              + " encoded once.");

  // transformer
  public static final ConfigOption<Integer> VOCABULARY =
      intOption(
          "model.vocabulary", 32768, 16, 1 << 22, "transformer: hashed word vocabulary size.");
  public static final ConfigOption<Integer> MAX_TOKENS =
      intOption(
          "model.max-tokens",
          128,
          8,
          4096,
          "transformer: sequence length ([CLS], the prompt's last quarter, [SEP], the response).");
  public static final ConfigOption<Integer> LAYERS =
      intOption("model.layers", 2, 1, 48, "transformer: encoder layers.");
  public static final ConfigOption<Integer> HEADS =
      intOption(
          "model.heads", 4, 1, 64, "transformer: attention heads (must divide embedding-dim).");

  /** Options of the process that runs a model, not of the model: left out of its spec. */
  public static final List<ConfigOption<?>> PROCESS = List.of(DEVICE, ENGINE_THREADS);

  public static final List<ConfigOption<?>> ALL =
      List.of(
          TYPE,
          DEVICE,
          ENGINE_THREADS,
          BUCKETS,
          EMBEDDING_DIM,
          HIDDEN,
          DROPOUT,
          MAX_FEATURES,
          CHAR_NGRAM,
          ENCODER,
          ENCODER_SESSIONS,
          EMBEDDING_CACHE,
          VOCABULARY,
          MAX_TOKENS,
          LAYERS,
          HEADS);

  private ModelOptions() {}
}
