package io.prefstream.model.encoder;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.prefstream.model.BlockRewardModel;
import io.prefstream.model.Candidate;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import io.prefstream.model.Prepared;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The {@code encoder} reward model: a pretrained BERT-family transformer ({@link EncoderBlock})
 * fine-tuned end to end with a scalar head on its pooled output, the model class reward models on
 * real human preferences are made of (TRL's RewardTrainer, OpenRLHF). Input: {@code [CLS] prompt
 * [SEP] response [SEP]} under {@code model.max-tokens} ({@link EncoderTokenizer}); a batch pads
 * only to its longest member, and scoring sorts candidates by length first.
 *
 * <p>Parameters are written as safetensors under Hugging Face names (plus {@code score.weight} and
 * {@code score.bias}); a checkpoint also carries the architecture ({@code config.json}) and the
 * tokenizer ({@code tokenizer.json}), so the scorer rebuilds the model from the checkpoint alone.
 * With {@code model.precision} fp16 the forward and backward passes run in that type over float32
 * parameters (cast on the way in, so gradients and the optimizer stay in float32).
 */
public final class EncoderReward extends BlockRewardModel {

  public static final String CONFIG_FILE = "config.json";
  public static final String TOKENIZER_FILE = "tokenizer.json";

  /** Padded tokens per scoring pass (and at most {@link #SCORE_COUNT} candidates). */
  private static final int SCORE_TOKENS = 16_384;

  private static final int SCORE_COUNT = 256;

  private final EncoderBlock block;
  private final EncoderTokenizer tokenizer;
  private final byte[] tokenizerJson;
  private final EncoderConfig config;
  private final Map<String, Parameter> named;
  private final DataType compute;

  private EncoderReward(
      ModelSpec spec, Device device, DataType compute, EncoderConfig config, byte[] tokenizerJson) {
    this(spec, device, compute, config, tokenizerJson, block(spec, config));
  }

  private EncoderReward(
      ModelSpec spec,
      Device device,
      DataType compute,
      EncoderConfig config,
      byte[] tokenizerJson,
      EncoderBlock block) {
    super(spec, device, block);
    this.block = block;
    this.config = config;
    this.compute = compute;
    this.tokenizerJson = tokenizerJson;
    int maxTokens = spec.get(ModelOptions.MAX_TOKENS);
    if (maxTokens > config.maxTokens()) {
      throw new IllegalArgumentException(
          "model.max-tokens ("
              + maxTokens
              + ") exceeds what the encoder's "
              + config.maxPositions()
              + " positions hold ("
              + config.maxTokens()
              + ")");
    }
    this.tokenizer = new EncoderTokenizer(tokenizerJson, config, maxTokens);
    initialize(new Shape(1, 2), new Shape(1, 2), new Shape(1, 2), new Shape(1, 2));
    this.named = block.named();
  }

  private static EncoderBlock block(ModelSpec spec, EncoderConfig config) {
    return new EncoderBlock(
        config,
        spec.get(ModelOptions.POOLING).equals("mean"),
        spec.get(ModelOptions.DROPOUT).floatValue());
  }

  /**
   * A model with the pretrained encoder's weights ({@code model.pretrained}) and a fresh head.
   *
   * @throws IllegalArgumentException when the source is missing, unsupported, or its tensors do not
   *     fit (naming the file, the tensor and what was expected)
   */
  public static EncoderReward pretrained(ModelSpec spec, Device device, DataType compute) {
    Pretrained source = Pretrained.resolve(spec.get(ModelOptions.PRETRAINED));
    EncoderConfig config = used(spec, source.config());
    EncoderReward model = new EncoderReward(spec, device, compute, config, source.tokenizerJson());
    try {
      model.loadPretrained(source);
    } catch (IOException | RuntimeException e) {
      model.close();
      if (e instanceof IllegalArgumentException iae) {
        throw iae;
      }
      throw new IllegalArgumentException(
          "model.pretrained: cannot load " + source.name() + ": " + e.getMessage(), e);
    }
    return model;
  }

  /**
   * A model to receive a checkpoint's parameters: its architecture and tokenizer come from the
   * checkpoint's own {@code config.json} and {@code tokenizer.json}, not from {@code
   * model.pretrained} (which the serving machine need not have).
   */
  public static EncoderReward forCheckpoint(
      ModelSpec spec, Device device, DataType compute, Path checkpoint) {
    Pretrained source = Pretrained.fromCheckpoint(checkpoint);
    return new EncoderReward(
        spec, device, compute, used(spec, source.config()), source.tokenizerJson());
  }

  /** The source's architecture cut to {@code model.encoder-layers}. */
  private static EncoderConfig used(ModelSpec spec, EncoderConfig config) {
    int layers = spec.get(ModelOptions.ENCODER_LAYERS);
    if (layers > config.layers()) {
      throw new IllegalArgumentException(
          "model.encoder-layers ("
              + layers
              + ") exceeds the encoder's "
              + config.layers()
              + " layers");
    }
    return layers == 0 ? config : config.withLayers(layers);
  }

  public EncoderConfig config() {
    return config;
  }

  /** The parameters bottom-up: embeddings, each layer, the head. */
  @Override
  public List<List<Parameter>> parameterGroups() {
    return block.groups();
  }

  @Override
  public boolean stochasticInTraining() {
    return spec().get(ModelOptions.DROPOUT) > 0;
  }

  @Override
  public boolean supportsPasses() {
    return true;
  }

  @Override
  public int defaultPassPairs() {
    return 8;
  }

  /** A batch tokenized, not yet padded. */
  private record Batch(long[][] ids, long[][] types, boolean[] truncated) implements Prepared {
    @Override
    public int size() {
      return ids.length;
    }

    @Override
    public int length(int candidate) {
      return ids[candidate].length;
    }

    @Override
    public boolean truncated(int candidate) {
      return truncated[candidate];
    }

    @Override
    public Prepared select(int[] candidates) {
      long[][] i = new long[candidates.length][];
      long[][] t = new long[candidates.length][];
      boolean[] c = new boolean[candidates.length];
      for (int k = 0; k < candidates.length; k++) {
        i[k] = ids[candidates[k]];
        t[k] = types[candidates[k]];
        c[k] = truncated[candidates[k]];
      }
      return new Batch(i, t, c);
    }
  }

  @Override
  public Prepared prepare(List<Candidate> candidates) {
    int n = candidates.size();
    long[][] ids = new long[n][];
    long[][] types = new long[n][];
    boolean[] truncated = new boolean[n];
    for (int i = 0; i < n; i++) {
      Candidate c = candidates.get(i);
      EncoderTokenizer.Sequence s = tokenizer.encode(c.prompt(), c.response());
      ids[i] = s.ids();
      types[i] = s.types();
      truncated[i] = s.truncated();
    }
    return new Batch(ids, types, truncated);
  }

  @Override
  public NDList inputs(NDManager manager, Prepared prepared) {
    Batch b = (Batch) prepared;
    int n = b.size();
    int length = 1;
    for (long[] seq : b.ids()) {
      length = Math.max(length, seq.length);
    }
    long[] ids = new long[n * length];
    long[] types = new long[n * length];
    long[] positions = new long[n * length];
    float[] valid = new float[n * length];
    int pad = config.padTokenId();
    int offset = config.positionOffset();
    Arrays.fill(ids, pad);
    if (offset > 0) {
      Arrays.fill(positions, pad); // RoBERTa's padding position is its padding id
    }
    for (int i = 0; i < n; i++) {
      long[] seq = b.ids()[i];
      System.arraycopy(seq, 0, ids, i * length, seq.length);
      System.arraycopy(b.types()[i], 0, types, i * length, seq.length);
      for (int t = 0; t < seq.length; t++) {
        positions[i * length + t] = offset + t;
        valid[i * length + t] = 1;
      }
    }
    Shape shape = new Shape(n, length);
    return new NDList(
        manager.create(ids, shape),
        manager.create(types, shape),
        manager.create(positions, shape),
        manager.create(valid, shape));
  }

  @Override
  public NDArray forward(NDList inputs, boolean training) {
    if (compute == DataType.FLOAT32) {
      return super.forward(inputs, training);
    }
    if (training) {
      throw new IllegalStateException(
          "model.precision=fp16 is for scoring: DJL's PyTorch engine casts types outside autograd,"
              + " so gradients cannot reach float32 parameters through an fp16 pass; train in fp32");
    }
    ParameterStore store = new CastingStore(inputs.head().getManager(), compute);
    return block
        .forward(store, inputs, training)
        .singletonOrThrow()
        .toType(DataType.FLOAT32, false)
        .reshape(-1);
  }

  /** Hands out each parameter cast to the compute type, the cast owned by the batch's manager. */
  private static final class CastingStore extends ParameterStore {
    private final DataType type;

    CastingStore(NDManager batch, DataType type) {
      super(batch, false);
      this.type = type;
    }

    @Override
    public NDArray getValue(Parameter parameter, Device device, boolean training) {
      NDArray value = super.getValue(parameter, device, training);
      if (value == null || value.getDataType() == type) {
        return value;
      }
      NDArray cast = value.toType(type, false);
      cast.attach(getManager());
      return cast;
    }
  }

  /** The last layer's hidden states of candidates, [n, longest, hidden], in float32 (for tests). */
  float[][][] hiddenStates(List<Candidate> candidates) {
    noGrad();
    try (NDManager batch = newBatchManager()) {
      NDList inputs = inputs(batch, prepare(candidates));
      NDArray h = block.hiddenStates(new ParameterStore(batch, false), inputs, false);
      Shape s = h.getShape();
      float[] flat = h.toType(DataType.FLOAT32, false).toFloatArray();
      float[][][] out = new float[(int) s.get(0)][(int) s.get(1)][(int) s.get(2)];
      int k = 0;
      for (float[][] row : out) {
        for (float[] token : row) {
          System.arraycopy(flat, k, token, 0, token.length);
          k += token.length;
        }
      }
      return out;
    }
  }

  /** The tokenized inputs of candidates: ids and token types, unpadded (for tests). */
  long[][][] tokens(List<Candidate> candidates) {
    Batch b = (Batch) prepare(candidates);
    return new long[][][] {b.ids(), b.types()};
  }

  /** Scores in passes of similar length (sorted), each padded to its longest member. */
  @Override
  public float[] score(List<Candidate> candidates) {
    noGrad();
    int n = candidates.size();
    float[] scores = new float[n];
    if (n == 0) {
      return scores;
    }
    Batch all = (Batch) prepare(candidates);
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Integer.compare(all.length(a), all.length(b)));
    int from = 0;
    while (from < n) {
      int to = from + 1;
      while (to < n
          && to - from < SCORE_COUNT
          && (long) (to - from + 1) * all.length(order[to]) <= SCORE_TOKENS) {
        to++;
      }
      int[] pass = new int[to - from];
      for (int k = 0; k < pass.length; k++) {
        pass[k] = order[from + k];
      }
      try (NDManager batch = newBatchManager()) {
        float[] part = forward(inputs(batch, all.select(pass)), false).toFloatArray();
        for (int k = 0; k < pass.length; k++) {
          scores[pass[k]] = part[k];
        }
      }
      from = to;
    }
    return scores;
  }

  /** Copies the pretrained tensors into the encoder's parameters; the head stays fresh. */
  private void loadPretrained(Pretrained source) throws IOException {
    Map<String, Tensor> tensors = withoutPrefix(source.weights());
    Map<String, Parameter> wanted = new LinkedHashMap<>(named);
    block.head().keySet().forEach(wanted::remove);
    assign(tensors, wanted, source.name(), false);
  }

  /**
   * Tensors of a whole task model ({@code bert.embeddings...}, {@code roberta.embeddings...}) under
   * the base model's names; older {@code LayerNorm.gamma}/{@code beta} names as {@code
   * weight}/{@code bias}.
   */
  private static Map<String, Tensor> withoutPrefix(Map<String, Tensor> tensors) {
    String prefix = "";
    for (String name : tensors.keySet()) {
      int at = name.indexOf("embeddings.word_embeddings.weight");
      if (at > 0) {
        prefix = name.substring(0, at);
        break;
      }
    }
    Map<String, Tensor> renamed = new LinkedHashMap<>();
    for (Tensor t : tensors.values()) {
      String name = t.name();
      if (!prefix.isEmpty() && name.startsWith(prefix)) {
        name = name.substring(prefix.length());
      }
      if (name.endsWith("LayerNorm.gamma")) {
        name = name.substring(0, name.length() - "gamma".length()) + "weight";
      } else if (name.endsWith("LayerNorm.beta")) {
        name = name.substring(0, name.length() - "beta".length()) + "bias";
      }
      renamed.put(name, new Tensor(name, t.shape(), t.values()));
    }
    return renamed;
  }

  /**
   * Copies each wanted parameter's tensor in; fails naming the source, the tensor and the expected
   * shape when one is missing or does not fit, and (when {@code exact}) when the source has others.
   */
  private void assign(
      Map<String, Tensor> tensors, Map<String, Parameter> wanted, String source, boolean exact)
      throws IOException {
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, Parameter> e : wanted.entrySet()) {
      Tensor t = tensors.get(e.getKey());
      Shape expected = e.getValue().getArray().getShape();
      if (t == null) {
        problems.add("no tensor " + e.getKey() + " (expected " + expected + ")");
      } else if (!expected.equals(new Shape(t.shape()))) {
        problems.add(
            "tensor " + e.getKey() + " has shape " + t.shapeText() + ", expected " + expected);
      }
    }
    if (exact) {
      TreeSet<String> extra = new TreeSet<>(tensors.keySet());
      extra.removeAll(wanted.keySet());
      if (!extra.isEmpty()) {
        problems.add("tensors this model does not have: " + extra);
      }
    }
    if (!problems.isEmpty()) {
      throw new IOException(
          String.format(
              "%s does not fit a %s encoder of %d layers, hidden size %d: %s",
              source,
              config.modelType(),
              config.layers(),
              config.hidden(),
              String.join("; ", problems.subList(0, Math.min(5, problems.size())))
                  + (problems.size() > 5 ? "; and " + (problems.size() - 5) + " more" : "")));
    }
    noGrad();
    for (Map.Entry<String, Parameter> e : wanted.entrySet()) {
      e.getValue().getArray().set(FloatBuffer.wrap(tensors.get(e.getKey()).values()));
    }
  }

  /** Every parameter as safetensors, under its Hugging Face name. */
  @Override
  public void saveParameters(OutputStream out) throws IOException {
    List<Tensor> tensors = new ArrayList<>(named.size());
    for (Map.Entry<String, Parameter> e : named.entrySet()) {
      NDArray a = e.getValue().getArray();
      tensors.add(new Tensor(e.getKey(), a.getShape().getShape(), a.toFloatArray()));
    }
    try (NDManager scope = newBatchManager()) {
      out.write(Safetensors.write(tensors, scope));
    }
    out.flush();
  }

  /** Replaces every parameter from safetensors written by {@link #saveParameters}. */
  @Override
  public void loadParameters(InputStream in) throws IOException {
    Map<String, Tensor> tensors = Safetensors.read(in.readAllBytes(), "the parameters");
    assign(tensors, named, "the parameters", true);
  }

  /** The architecture and tokenizer, beside the parameters in a checkpoint. */
  @Override
  public void saveAssets(Path dir) throws IOException {
    Files.write(dir.resolve(CONFIG_FILE), config.toJson());
    Files.write(dir.resolve(TOKENIZER_FILE), tokenizerJson);
  }

  @Override
  public void close() {
    tokenizer.close();
    super.close();
  }
}
