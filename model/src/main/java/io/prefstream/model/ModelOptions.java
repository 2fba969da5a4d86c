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
          List.of("ngram-mlp"),
          "Which reward model: ngram-mlp (hashed n-grams and structure features, the CPU default).");
  public static final ConfigOption<String> DEVICE =
      choiceOption(
          "model.device",
          "auto",
          List.of("auto", "cpu", "gpu"),
          "Where the model runs: auto takes a GPU when the engine sees one.");

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

  public static final List<ConfigOption<?>> ALL =
      List.of(TYPE, DEVICE, BUCKETS, EMBEDDING_DIM, HIDDEN, DROPOUT, MAX_FEATURES, CHAR_NGRAM);

  private ModelOptions() {}
}
