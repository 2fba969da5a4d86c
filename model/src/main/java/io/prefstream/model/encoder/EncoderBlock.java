package io.prefstream.model.encoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A BERT-family encoder with a scalar reward head: word, position and token type embeddings, layer
 * norm, {@link EncoderLayer}s, then the pooled hidden state ({@code [CLS]}'s, or the mean over real
 * tokens) through one linear unit. Every parameter has its Hugging Face name ({@link #named}), so
 * pretrained weights load by name and checkpoints are written under the same names.
 *
 * <p>Inputs: token ids [B, T], token type ids [B, T], position ids [B, T] (int64), and valid [B, T]
 * (1 for real tokens, 0 for padding). Output: rewards [B, 1].
 */
final class EncoderBlock extends AbstractBlock {

  /** Added to attention scores of padding; exp(-10000) is 0 in every float type, fp16 included. */
  private static final float MASKED = -10_000f;

  static final String HEAD = "score";

  private final EncoderConfig config;
  private final boolean meanPooling;
  private final float dropoutRate;
  private final Parameter words;
  private final Parameter positions;
  private final Parameter types;
  private final LayerNorm embeddingNorm;
  private final Dropout dropout;
  private final List<EncoderLayer> layers = new ArrayList<>();
  private final Linear head;

  EncoderBlock(EncoderConfig config, boolean meanPooling, float dropoutRate) {
    this.config = config;
    this.meanPooling = meanPooling;
    this.dropoutRate = dropoutRate;
    words = addParameter(table("word_embeddings", config.vocabSize(), config.hidden()));
    positions = addParameter(table("position_embeddings", config.maxPositions(), config.hidden()));
    types = addParameter(table("token_type_embeddings", config.typeVocab(), config.hidden()));
    embeddingNorm = addChildBlock("embeddingNorm", EncoderLayer.norm(config));
    dropout = addChildBlock("dropout", Dropout.builder().optRate(dropoutRate).build());
    for (int i = 0; i < config.layers(); i++) {
      layers.add(addChildBlock("layer" + i, new EncoderLayer(config, dropoutRate)));
    }
    head = addChildBlock(HEAD, Linear.builder().setUnits(1).build());
    head.setInitializer(new NormalInitializer(0.02f), Parameter.Type.WEIGHT);
  }

  private static Parameter table(String name, int rows, int width) {
    return Parameter.builder()
        .setName(name)
        .setType(Parameter.Type.WEIGHT)
        .optShape(new Shape(rows, width))
        .optInitializer(new NormalInitializer(0.02f))
        .build();
  }

  /** Every parameter by its Hugging Face name, embeddings first, the reward head last. */
  Map<String, Parameter> named() {
    Map<String, Parameter> m = new LinkedHashMap<>();
    m.putAll(embeddings());
    for (int i = 0; i < layers.size(); i++) {
      m.putAll(layers.get(i).named("encoder.layer." + i + "."));
    }
    m.putAll(head());
    return m;
  }

  Map<String, Parameter> embeddings() {
    Map<String, Parameter> m = new LinkedHashMap<>();
    m.put("embeddings.word_embeddings.weight", words);
    m.put("embeddings.position_embeddings.weight", positions);
    m.put("embeddings.token_type_embeddings.weight", types);
    EncoderLayer.layerNorm(m, "embeddings.LayerNorm", embeddingNorm);
    return m;
  }

  Map<String, Parameter> head() {
    Map<String, Parameter> m = new LinkedHashMap<>();
    EncoderLayer.linear(m, HEAD, head);
    return m;
  }

  /** The parameters bottom-up: the embeddings, each layer, the head (for layer-wise rates). */
  List<List<Parameter>> groups() {
    List<List<Parameter>> groups = new ArrayList<>();
    groups.add(List.copyOf(embeddings().values()));
    for (int i = 0; i < layers.size(); i++) {
      groups.add(List.copyOf(layers.get(i).named("").values()));
    }
    groups.add(List.copyOf(head().values()));
    return groups;
  }

  EncoderConfig config() {
    return config;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = hiddenStates(store, inputs, training);
    NDArray valid = inputs.get(3).toType(x.getDataType(), false);
    NDArray pooled;
    if (meanPooling) {
      NDArray weights = valid.expandDims(2);
      pooled = x.mul(weights).sum(new int[] {1}).div(weights.sum(new int[] {1}));
    } else {
      pooled = x.get(new NDIndex(":, 0, :"));
    }
    if (training && dropoutRate > 0) {
      pooled = dropout.forward(store, new NDList(pooled), true).head();
    }
    return head.forward(store, new NDList(pooled), training);
  }

  /** The last layer's hidden states [B, T, H] (what an ONNX export's last_hidden_state is). */
  NDArray hiddenStates(ParameterStore store, NDList inputs, boolean training) {
    NDArray ids = inputs.get(0);
    NDArray typeIds = inputs.get(1);
    NDArray positionIds = inputs.get(2);
    NDArray x =
        lookup(ids, store.getValue(words, ids.getDevice(), training))
            .add(lookup(positionIds, store.getValue(positions, ids.getDevice(), training)))
            .add(lookup(typeIds, store.getValue(types, ids.getDevice(), training)));
    x = embeddingNorm.forward(store, new NDList(x), training).head();
    if (training && dropoutRate > 0) {
      x = dropout.forward(store, new NDList(x), true).head();
    }
    NDArray valid = inputs.get(3).toType(x.getDataType(), false);
    long batch = valid.getShape().get(0);
    long length = valid.getShape().get(1);
    // 0 where a token is real, MASKED on padding: added to every query's scores of that key.
    NDArray mask = valid.sub(1f).mul(-MASKED).reshape(batch, 1, 1, length);
    for (EncoderLayer layer : layers) {
      x = layer.forward(store, new NDList(x, mask), training).head();
    }
    return x;
  }

  private static NDArray lookup(NDArray ids, NDArray table) {
    return ids.getNDArrayInternal().embedding(ids, table, SparseFormat.DENSE).head();
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape x = new Shape(1, 2, config.hidden());
    embeddingNorm.initialize(manager, dataType, x);
    dropout.initialize(manager, dataType, x);
    for (EncoderLayer layer : layers) {
      layer.initialize(manager, dataType, x, new Shape(1, 1, 1, 2));
    }
    head.initialize(manager, dataType, new Shape(1, config.hidden()));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), 1)};
  }
}
