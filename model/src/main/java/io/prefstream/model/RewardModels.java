package io.prefstream.model;

import ai.djl.Device;
import io.prefstream.model.embed.EmbedMlp;
import io.prefstream.model.ngram.NgramMlp;
import io.prefstream.model.transformer.TransformerReward;

/** Builds a reward model by its spec's type. */
public final class RewardModels {

  private RewardModels() {}

  /** A freshly initialised model of the spec's type on the device. */
  public static RewardModel create(ModelSpec spec, Device device) {
    return switch (spec.type()) {
      case "ngram-mlp" -> new NgramMlp(spec, device);
      case "embed-mlp" -> new EmbedMlp(spec, device);
      case "transformer" -> new TransformerReward(spec, device);
      default ->
          throw new IllegalArgumentException(
              "model.type: unknown reward model '"
                  + spec.type()
                  + "'; known: ngram-mlp, embed-mlp, transformer");
    };
  }
}
