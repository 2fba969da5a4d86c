package io.prefstream.model.ngram;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.prefstream.model.BlockRewardModel;
import io.prefstream.model.Candidate;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import java.util.List;

/**
 * The default reward model: hashed word and character n-grams of prompt and response plus the
 * response's structure, through a small MLP ({@link NgramMlpBlock}). Fast on a CPU, no encoder.
 */
public final class NgramMlp extends BlockRewardModel {

  private final NgramFeaturizer featurizer;

  public NgramMlp(ModelSpec spec, Device device) {
    super(
        spec,
        device,
        new NgramMlpBlock(
            spec.get(ModelOptions.BUCKETS),
            spec.get(ModelOptions.EMBEDDING_DIM),
            spec.get(ModelOptions.HIDDEN),
            spec.get(ModelOptions.DROPOUT).floatValue(),
            StructureFeatures.SIZE));
    this.featurizer = NgramFeaturizer.of(spec);
    initialize(
        new Shape(1, 1),
        new Shape(1, 1),
        new Shape(1, 1),
        new Shape(1, 1),
        new Shape(1, StructureFeatures.SIZE));
  }

  public NgramFeaturizer featurizer() {
    return featurizer;
  }

  @Override
  public NDList inputs(NDManager manager, List<Candidate> candidates) {
    int n = candidates.size();
    NgramFeaturizer.Features[] features = new NgramFeaturizer.Features[n];
    int promptWidth = 1;
    int responseWidth = 1;
    for (int i = 0; i < n; i++) {
      Candidate c = candidates.get(i);
      features[i] = featurizer.featurize(c.prompt(), c.response());
      promptWidth = Math.max(promptWidth, features[i].prompt().size());
      responseWidth = Math.max(responseWidth, features[i].response().size());
    }
    long[] promptIds = new long[n * promptWidth];
    float[] promptValues = new float[n * promptWidth];
    long[] responseIds = new long[n * responseWidth];
    float[] responseValues = new float[n * responseWidth];
    float[] structure = new float[n * StructureFeatures.SIZE];
    for (int i = 0; i < n; i++) {
      fill(features[i].prompt(), promptIds, promptValues, i * promptWidth);
      fill(features[i].response(), responseIds, responseValues, i * responseWidth);
      System.arraycopy(
          features[i].structure(),
          0,
          structure,
          i * StructureFeatures.SIZE,
          StructureFeatures.SIZE);
    }
    return new NDList(
        manager.create(promptIds, new Shape(n, promptWidth)),
        manager.create(promptValues, new Shape(n, promptWidth)),
        manager.create(responseIds, new Shape(n, responseWidth)),
        manager.create(responseValues, new Shape(n, responseWidth)),
        manager.create(structure, new Shape(n, StructureFeatures.SIZE)));
  }

  private static void fill(NgramFeaturizer.Bag bag, long[] ids, float[] values, int offset) {
    int[] bagIds = bag.ids();
    for (int j = 0; j < bagIds.length; j++) {
      ids[offset + j] = bagIds[j];
    }
    System.arraycopy(bag.values(), 0, values, offset, bagIds.length);
  }
}
