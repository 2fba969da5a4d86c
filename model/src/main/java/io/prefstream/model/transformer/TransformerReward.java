package io.prefstream.model.transformer;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.prefstream.model.BlockRewardModel;
import io.prefstream.model.Candidate;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import io.prefstream.model.Prepared;
import io.prefstream.model.ngram.NgramFeaturizer;
import io.prefstream.model.ngram.StructureFeatures;
import java.util.List;

/**
 * A small transformer encoder trained from scratch ({@link TransformerRewardBlock}) over hashed
 * word tokens: {@code [CLS] prompt-tail [SEP] response}. Meant for GPUs; on a CPU it runs, slowly.
 * The prompt gets at most a quarter of {@code model.max-tokens}, from its end (the latest turn).
 */
public final class TransformerReward extends BlockRewardModel {

  private static final long CLS = 1;
  private static final long SEP = 2;
  private static final int RESERVED = 3;

  private final int vocabulary;
  private final int maxTokens;

  public TransformerReward(ModelSpec spec, Device device) {
    super(spec, device, block(spec));
    this.vocabulary = spec.get(ModelOptions.VOCABULARY);
    this.maxTokens = spec.get(ModelOptions.MAX_TOKENS);
    int dim = spec.get(ModelOptions.EMBEDDING_DIM);
    if (dim % spec.get(ModelOptions.HEADS) != 0) {
      throw new IllegalArgumentException(
          "model.heads ("
              + spec.get(ModelOptions.HEADS)
              + ") must divide model.embedding-dim ("
              + dim
              + ")");
    }
    initialize(
        new Shape(1, maxTokens),
        new Shape(1, maxTokens),
        new Shape(1, maxTokens),
        new Shape(1, StructureFeatures.SIZE));
  }

  private static TransformerRewardBlock block(ModelSpec spec) {
    return new TransformerRewardBlock(
        spec.get(ModelOptions.VOCABULARY),
        spec.get(ModelOptions.MAX_TOKENS),
        spec.get(ModelOptions.EMBEDDING_DIM),
        spec.get(ModelOptions.HEADS),
        spec.get(ModelOptions.LAYERS),
        spec.get(ModelOptions.HIDDEN),
        spec.get(ModelOptions.DROPOUT).floatValue(),
        StructureFeatures.SIZE);
  }

  private record Batch(
      int size, int length, long[] ids, long[] segments, float[] valid, float[] structure)
      implements Prepared {}

  @Override
  public boolean stochasticInTraining() {
    return spec().get(ModelOptions.DROPOUT) > 0;
  }

  @Override
  public Prepared prepare(List<Candidate> candidates) {
    int n = candidates.size();
    long[][] sequences = new long[n][];
    int length = 2;
    for (int i = 0; i < n; i++) {
      sequences[i] = sequence(candidates.get(i));
      length = Math.max(length, sequences[i].length);
    }
    long[] ids = new long[n * length];
    long[] segments = new long[n * length];
    float[] valid = new float[n * length];
    float[] structure = new float[n * StructureFeatures.SIZE];
    for (int i = 0; i < n; i++) {
      long[] seq = sequences[i];
      boolean response = false;
      for (int t = 0; t < seq.length; t++) {
        ids[i * length + t] = seq[t];
        segments[i * length + t] = response ? 1 : 0;
        valid[i * length + t] = 1;
        response |= seq[t] == SEP;
      }
      Candidate c = candidates.get(i);
      System.arraycopy(
          StructureFeatures.of(c.prompt(), c.response()),
          0,
          structure,
          i * StructureFeatures.SIZE,
          StructureFeatures.SIZE);
    }
    return new Batch(n, length, ids, segments, valid, structure);
  }

  /** [CLS], the prompt's last words, [SEP], the response's first words. */
  private long[] sequence(Candidate c) {
    long[] prompt = NgramFeaturizer.wordHashes(c.prompt());
    long[] response = NgramFeaturizer.wordHashes(c.response());
    int promptTake = Math.min(prompt.length, (maxTokens - 2) / 4);
    int responseTake = Math.min(response.length, maxTokens - 2 - promptTake);
    long[] seq = new long[2 + promptTake + responseTake];
    int k = 0;
    seq[k++] = CLS;
    for (int i = prompt.length - promptTake; i < prompt.length; i++) {
      seq[k++] = token(prompt[i]);
    }
    seq[k++] = SEP;
    for (int i = 0; i < responseTake; i++) {
      seq[k++] = token(response[i]);
    }
    return seq;
  }

  private long token(long wordHash) {
    return RESERVED + Long.remainderUnsigned(NgramFeaturizer.mix(wordHash), vocabulary - RESERVED);
  }

  @Override
  public NDList inputs(NDManager manager, Prepared prepared) {
    Batch b = (Batch) prepared;
    Shape shape = new Shape(b.size(), b.length());
    return new NDList(
        manager.create(b.ids(), shape),
        manager.create(b.segments(), shape),
        manager.create(b.valid(), shape),
        manager.create(b.structure(), new Shape(b.size(), StructureFeatures.SIZE)));
  }
}
