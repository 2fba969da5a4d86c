package io.prefstream.model;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.prefstream.model.embed.EmbedMlp;
import io.prefstream.model.encoder.EncoderReward;
import io.prefstream.model.ngram.NgramMlp;
import io.prefstream.model.transformer.TransformerReward;
import java.nio.file.Path;

/** Builds a reward model by its spec's type. */
public final class RewardModels {

  private RewardModels() {}

  /** A model of the spec's type on the device, computing in float32. */
  public static RewardModel create(ModelSpec spec, Device device) {
    return create(spec, device, "fp32");
  }

  /**
   * A model to train: freshly initialised, or for {@code encoder} with its pretrained weights.
   *
   * @param precision {@code model.precision}: fp32, or fp16 for the encoder
   */
  public static RewardModel create(ModelSpec spec, Device device, String precision) {
    DataType compute = computeType(spec, precision);
    return switch (spec.type()) {
      case "ngram-mlp" -> new NgramMlp(spec, device);
      case "embed-mlp" -> new EmbedMlp(spec, device);
      case "encoder" -> EncoderReward.pretrained(spec, device, compute);
      case "transformer" -> new TransformerReward(spec, device);
      default ->
          throw new IllegalArgumentException(
              "model.type: unknown reward model '"
                  + spec.type()
                  + "'; known: ngram-mlp, embed-mlp, encoder, transformer");
    };
  }

  /**
   * A model to receive the parameters of the checkpoint in {@code dir}: built from what the
   * checkpoint carries (an encoder's architecture and tokenizer), without reading pretrained
   * weights that the parameters replace anyway.
   */
  public static RewardModel forCheckpoint(
      ModelSpec spec, Device device, String precision, Path dir) {
    if (spec.type().equals("encoder")) {
      return EncoderReward.forCheckpoint(spec, device, computeType(spec, precision), dir);
    }
    return create(spec, device, precision);
  }

  private static DataType computeType(ModelSpec spec, String precision) {
    DataType type =
        switch (precision) {
          case "fp32" -> DataType.FLOAT32;
          case "fp16" -> DataType.FLOAT16;
          default ->
              throw new IllegalArgumentException(
                  "model.precision: expected fp32 or fp16, got '" + precision + "'");
        };
    if (type != DataType.FLOAT32 && !spec.type().equals("encoder")) {
      throw new IllegalArgumentException(
          "model.precision="
              + precision
              + " applies to the encoder model; "
              + spec.type()
              + " computes in fp32");
    }
    return type;
  }
}
