package io.prefstream.model;

import static io.prefstream.config.ConfigOption.choiceOption;
import static io.prefstream.config.ConfigOption.doubleOption;
import static io.prefstream.config.ConfigOption.intOption;
import static io.prefstream.config.ConfigOption.stringOption;

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
          List.of("ngram-mlp", "embed-mlp", "encoder", "transformer"),
          "Which reward model: ngram-mlp (hashed n-grams and structure features, the CPU default),"
              + " embed-mlp (a frozen ONNX sentence encoder and a trained MLP head), encoder (a"
              + " pretrained BERT-family transformer fine-tuned end to end with a scalar head: the"
              + " model class that learns real human preferences), transformer (a small"
              + " transformer encoder trained from scratch).");
  public static final ConfigOption<String> DEVICE =
      choiceOption(
          "model.device",
          "auto",
          List.of("auto", "cpu", "gpu"),
          "Where the model runs: auto takes a GPU when the engine sees one.");
  public static final ConfigOption<String> PRECISION =
      choiceOption(
          "model.precision",
          "fp32",
          List.of("fp32", "fp16"),
          "encoder: the type scoring computes in, over float32 parameters: fp16 halves a GPU"
              + " scorer's memory traffic (on CPUs fp32 is faster). Training is float32: DJL 0.36's"
              + " PyTorch engine casts types outside autograd, so no fp16 pass can reach float32"
              + " parameters; it has no bfloat16 type.");
  public static final ConfigOption<Integer> ENGINE_THREADS =
      intOption(
          "model.engine-threads",
          0,
          0,
          4096,
          "The engine's (libtorch's) intra-op threads. 0 (auto): one fewer than the cores for"
              + " ngram-mlp and embed-mlp, whose featurizing (n-grams, the encoder) keeps a core"
              + " busy beside the engine, and every core for transformer and encoder.");

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
      doubleOption(
          "model.dropout",
          0.0,
          0.0,
          0.9,
          "Dropout rate in training: the MLP's hidden layer; the encoder's hidden states, attention"
              + " probabilities and pooled output.");
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

  // encoder
  public static final ConfigOption<String> PRETRAINED =
      stringOption(
          "model.pretrained",
          "minilm-l6",
          "encoder: the pretrained encoder: minilm-l6 (all-MiniLM-L6-v2, 6 layers) or bge-small"
              + " (bge-small-en-v1.5, 12 layers), both from Maven Central, or a Hugging Face model"
              + " directory (config.json, model.safetensors, tokenizer.json) of a bert, roberta or"
              + " xlm-roberta encoder.");
  public static final ConfigOption<String> POOLING =
      choiceOption(
          "model.pooling",
          "cls",
          List.of("cls", "mean"),
          "encoder: what the reward head reads: the first token's hidden state (cls) or the mean"
              + " over real tokens (mean).");
  public static final ConfigOption<Integer> ENCODER_LAYERS =
      intOption(
          "model.encoder-layers",
          0,
          0,
          96,
          "encoder: use only the lowest N layers of the pretrained encoder (0: all of them).");

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
          "transformer and encoder: most tokens of one (prompt, response) input, special tokens"
              + " included; the prompt keeps its end, the response its start.");
  public static final ConfigOption<Integer> LAYERS =
      intOption("model.layers", 2, 1, 48, "transformer: encoder layers.");
  public static final ConfigOption<Integer> HEADS =
      intOption(
          "model.heads", 4, 1, 64, "transformer: attention heads (must divide embedding-dim).");

  /** Options of the process that runs a model, not of the model: left out of its spec. */
  public static final List<ConfigOption<?>> PROCESS = List.of(DEVICE, ENGINE_THREADS, PRECISION);

  public static final List<ConfigOption<?>> ALL =
      List.of(
          TYPE,
          DEVICE,
          PRECISION,
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
          PRETRAINED,
          POOLING,
          ENCODER_LAYERS,
          VOCABULARY,
          MAX_TOKENS,
          LAYERS,
          HEADS);

  private ModelOptions() {}
}
