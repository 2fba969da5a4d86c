package io.prefstream.model.embed;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import io.prefstream.model.BlockRewardModel;
import io.prefstream.model.Candidate;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import io.prefstream.model.Prepared;
import io.prefstream.model.ngram.StructureFeatures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A frozen pretrained sentence encoder ({@link SentenceEncoder}) embeds prompt and response; a
 * trained MLP head scores {@code [e_p, e_r, e_p⊙e_r, structure]}. Normalised embeddings carry
 * almost no length signal, so the response's structure features go in beside them.
 *
 * <p>The encoder reads 128 (MiniLM) or 512 (BGE) tokens: responses are read from their start,
 * prompts from their end ({@value #PROMPT_TAIL} characters), where a dialogue's latest turn is.
 */
public final class EmbedMlp extends BlockRewardModel {

  static final int PROMPT_TAIL = 2000;
  private static final Map<String, SentenceEncoder> ENCODERS = new ConcurrentHashMap<>();

  private final SentenceEncoder encoder;
  private final int width;

  public EmbedMlp(ModelSpec spec, Device device) {
    super(spec, device, head(spec));
    this.encoder = sharedEncoder(spec);
    this.width = 3 * SentenceEncoder.DIMENSION + StructureFeatures.SIZE;
    initialize(new Shape(1, width));
  }

  private static SequentialBlock head(ModelSpec spec) {
    return new SequentialBlock()
        .add(Linear.builder().setUnits(spec.get(ModelOptions.HIDDEN)).build())
        .add(Activation::gelu)
        .add(Dropout.builder().optRate(spec.get(ModelOptions.DROPOUT).floatValue()).build())
        .add(Linear.builder().setUnits(1).build());
  }

  /**
   * The encoder every embed-mlp model of this spec's encoder, sessions and cache size shares in
   * this process (a trainer's model, its parent, a scorer's): loaded once, one cache.
   */
  public static SentenceEncoder sharedEncoder(ModelSpec spec) {
    String name = spec.get(ModelOptions.ENCODER);
    int sessions = spec.get(ModelOptions.ENCODER_SESSIONS);
    int cache = spec.get(ModelOptions.EMBEDDING_CACHE);
    return ENCODERS.computeIfAbsent(
        name + "/" + sessions + "/" + cache, k -> new SentenceEncoder(name, sessions, cache));
  }

  /** Texts per candidate the encoder is asked for: the prompt's tail and the response. */
  public static List<String> texts(Candidate c) {
    String p = c.prompt();
    return List.of(
        p.length() > PROMPT_TAIL ? p.substring(p.length() - PROMPT_TAIL) : p, c.response());
  }

  private record Batch(int size, float[] features) implements Prepared {}

  @Override
  public boolean stochasticInTraining() {
    return spec().get(ModelOptions.DROPOUT) > 0;
  }

  @Override
  public Prepared prepare(List<Candidate> candidates) {
    int n = candidates.size();
    List<String> texts = new ArrayList<>(2 * n);
    for (Candidate c : candidates) {
      String p = c.prompt();
      texts.add(p.length() > PROMPT_TAIL ? p.substring(p.length() - PROMPT_TAIL) : p);
    }
    for (Candidate c : candidates) {
      texts.add(c.response());
    }
    float[][] embeddings = encoder.embed(texts);
    int d = SentenceEncoder.DIMENSION;
    float[] features = new float[n * width];
    for (int i = 0; i < n; i++) {
      float[] p = embeddings[i];
      float[] r = embeddings[n + i];
      int o = i * width;
      System.arraycopy(p, 0, features, o, d);
      System.arraycopy(r, 0, features, o + d, d);
      for (int j = 0; j < d; j++) {
        features[o + 2 * d + j] = p[j] * r[j] * d; // scaled: unit vectors' products are tiny
      }
      float[] structure =
          StructureFeatures.of(candidates.get(i).prompt(), candidates.get(i).response());
      System.arraycopy(structure, 0, features, o + 3 * d, structure.length);
    }
    return new Batch(n, features);
  }

  @Override
  public NDList inputs(NDManager manager, Prepared prepared) {
    Batch batch = (Batch) prepared;
    return new NDList(manager.create(batch.features(), new Shape(batch.size(), width)));
  }
}
