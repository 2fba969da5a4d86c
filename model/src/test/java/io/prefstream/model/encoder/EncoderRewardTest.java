package io.prefstream.model.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.prefstream.model.Candidate;
import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import io.prefstream.model.RewardModels;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EncoderRewardTest {

  static final List<Candidate> TEXTS =
      List.of(
          new Candidate(
              "Human: How do I reverse a list in Python?\n\nAssistant:",
              "Use reversed(xs) for an iterator, or xs[::-1] for a reversed copy."),
          new Candidate("What is an index fund?", "A fund that holds every stock of an index."),
          new Candidate("", "An answer to nothing at all, with émojis 🙂 and ünïcode."),
          new Candidate("Short?", ""));

  static ModelSpec spec(String pretrained, int layers, int maxTokens) {
    return ModelSpec.defaults()
        .with(ModelOptions.TYPE, "encoder")
        .with(ModelOptions.PRETRAINED, pretrained)
        .with(ModelOptions.ENCODER_LAYERS, layers)
        .with(ModelOptions.MAX_TOKENS, maxTokens);
  }

  /** ONNX Runtime's last_hidden_state of the same model on the same token ids. */
  static float[][][] onnxRuntime(String resource, long[][] ids, long[][] types) throws Exception {
    int n = ids.length;
    int length = 0;
    for (long[] seq : ids) {
      length = Math.max(length, seq.length);
    }
    long[][] paddedIds = new long[n][length];
    long[][] paddedTypes = new long[n][length];
    long[][] mask = new long[n][length];
    for (int i = 0; i < n; i++) {
      System.arraycopy(ids[i], 0, paddedIds[i], 0, ids[i].length);
      System.arraycopy(types[i], 0, paddedTypes[i], 0, ids[i].length);
      java.util.Arrays.fill(mask[i], 0, ids[i].length, 1);
    }
    byte[] model;
    try (InputStream in = EncoderRewardTest.class.getClassLoader().getResourceAsStream(resource)) {
      model = in.readAllBytes();
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession session = env.createSession(model, new OrtSession.SessionOptions());
        OnnxTensor i = OnnxTensor.createTensor(env, paddedIds);
        OnnxTensor m = OnnxTensor.createTensor(env, mask);
        OnnxTensor t = OnnxTensor.createTensor(env, paddedTypes);
        OrtSession.Result result =
            session.run(Map.of("input_ids", i, "attention_mask", m, "token_type_ids", t))) {
      return (float[][][]) result.get("last_hidden_state").orElseThrow().getValue();
    }
  }

  static double maxDifference(float[][][] a, float[][][] b, long[][] ids) {
    double max = 0;
    for (int i = 0; i < ids.length; i++) {
      for (int t = 0; t < ids[i].length; t++) { // real tokens only; padding's states mean nothing
        for (int d = 0; d < a[i][t].length; d++) {
          max = Math.max(max, Math.abs(a[i][t][d] - b[i][t][d]));
        }
      }
    }
    return max;
  }

  @ParameterizedTest
  @CsvSource({"minilm-l6, all-minilm-l6-v2.onnx", "bge-small, bge-small-en-v1.5.onnx"})
  void loadedEncoderComputesWhatOnnxRuntimeComputes(String pretrained, String onnx)
      throws Exception {
    try (EncoderReward model =
        EncoderReward.pretrained(
            spec(pretrained, 0, 128), Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32)) {
      long[][][] tokens = model.tokens(TEXTS);
      float[][][] ours = model.hiddenStates(TEXTS);
      float[][][] reference = onnxRuntime(onnx, tokens[0], tokens[1]);
      assertThat(maxDifference(ours, reference, tokens[0])).isLessThanOrEqualTo(1e-4);
    }
  }

  @Test
  void inputIsClsPromptSepResponseSepWithTheResponseAsTypeOne() {
    try (EncoderReward model =
        EncoderReward.pretrained(
            spec("minilm-l6", 1, 16), Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32)) {
      long[][][] tokens = model.tokens(List.of(new Candidate("first second", "third fourth")));
      long[] ids = tokens[0][0];
      assertThat(ids).hasSize(7);
      assertThat(ids[0]).isEqualTo(101); // [CLS]
      assertThat(ids[3]).isEqualTo(102); // [SEP]
      assertThat(ids[6]).isEqualTo(102);
      assertThat(tokens[1][0]).containsExactly(0, 0, 0, 0, 1, 1, 1);
    }
  }

  @Test
  void longTextsKeepThePromptsEndAndTheResponsesStart() {
    String prompt = "old ".repeat(50) + "latest question";
    String response = "first answer words " + "filler ".repeat(50);
    try (EncoderReward model =
        EncoderReward.pretrained(
            spec("minilm-l6", 1, 24), Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32)) {
      long[] ids = model.tokens(List.of(new Candidate(prompt, response)))[0][0];
      assertThat(ids).hasSize(24);
      long[] latest =
          model.tokens(List.of(new Candidate("latest question", "first answer words")))[0][0];
      // the prompt's last tokens sit just before the first [SEP]; the response's first after it
      int sep = indexOf(ids, 102);
      assertThat(ids[sep - 1]).isEqualTo(latest[indexOf(latest, 102) - 1]);
      assertThat(ids[sep + 1]).isEqualTo(latest[indexOf(latest, 102) + 1]);
      assertThat(sep - 1).isGreaterThanOrEqualTo(21 / 4); // the prompt keeps at least a quarter
    }
  }

  private static int indexOf(long[] ids, long id) {
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] == id) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void weightsWrittenAsSafetensorsInHuggingFaceNamingLoadBackToTheSameOutput(@TempDir Path dir)
      throws Exception {
    try (EncoderReward model =
        EncoderReward.pretrained(
            spec("minilm-l6", 0, 64), Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      model.saveParameters(out);
      Files.write(dir.resolve("model.safetensors"), out.toByteArray());
      model.saveAssets(dir);
      try (EncoderReward loaded =
          EncoderReward.pretrained(
              spec(dir.toString(), 0, 64), Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32)) {
        long[][][] tokens = model.tokens(TEXTS);
        assertThat(maxDifference(loaded.hiddenStates(TEXTS), model.hiddenStates(TEXTS), tokens[0]))
            .isEqualTo(0);
      }
    }
  }

  @Test
  void aTaskModelsPrefixedNamesLoadToo(@TempDir Path dir) throws Exception {
    try (EncoderReward model =
        EncoderReward.pretrained(
            spec("minilm-l6", 2, 64), Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32)) {
      java.util.List<Tensor> prefixed = new java.util.ArrayList<>();
      try (ai.djl.ndarray.NDManager m = model.newBatchManager()) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        model.saveParameters(out);
        for (Tensor t : Safetensors.read(out.toByteArray(), "saved").values()) {
          prefixed.add(new Tensor("bert." + t.name(), t.shape(), t.values()));
        }
        Files.write(dir.resolve("model.safetensors"), Safetensors.write(prefixed, m));
      }
      model.saveAssets(dir);
      try (EncoderReward loaded =
          EncoderReward.pretrained(
              spec(dir.toString(), 0, 64), Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32)) {
        assertThat(loaded.config().layers()).isEqualTo(2);
        long[][][] tokens = model.tokens(TEXTS);
        assertThat(maxDifference(loaded.hiddenStates(TEXTS), model.hiddenStates(TEXTS), tokens[0]))
            .isEqualTo(0);
      }
    }
  }

  @Test
  void aMissingDirectoryOrFileIsAClearError(@TempDir Path dir) throws Exception {
    assertThatThrownBy(
            () -> RewardModels.create(spec(dir.resolve("nope").toString(), 0, 64), Device.cpu()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("model.pretrained")
        .hasMessageContaining("neither a built-in model");
    Files.writeString(
        dir.resolve("config.json"), new String(minilmConfig(), StandardCharsets.UTF_8));
    assertThatThrownBy(() -> RewardModels.create(spec(dir.toString(), 0, 64), Device.cpu()))
        .hasMessageContaining("tokenizer.json is missing");
    Files.write(dir.resolve("tokenizer.json"), minilmTokenizer());
    Files.write(dir.resolve("pytorch_model.bin"), new byte[] {1, 2, 3});
    assertThatThrownBy(() -> RewardModels.create(spec(dir.toString(), 0, 64), Device.cpu()))
        .hasMessageContaining("no model.safetensors")
        .hasMessageContaining("pytorch_model.bin");
  }

  @Test
  void anUnsupportedArchitectureIsRefusedNamingIt(@TempDir Path dir) throws Exception {
    Files.writeString(
        dir.resolve("config.json"),
        new String(minilmConfig(), StandardCharsets.UTF_8).replace("\"bert\"", "\"deberta-v2\""));
    assertThatThrownBy(() -> RewardModels.create(spec(dir.toString(), 0, 64), Device.cpu()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(dir.resolve("config.json").toString())
        .hasMessageContaining("deberta-v2")
        .hasMessageContaining("bert, roberta, xlm-roberta");
  }

  @Test
  void aCorruptedSafetensorsHeaderOrAMissingTensorIsAClearError(@TempDir Path dir)
      throws Exception {
    byte[] weights;
    try (EncoderReward model =
        EncoderReward.pretrained(
            spec("minilm-l6", 1, 64), Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      model.saveParameters(out);
      weights = out.toByteArray();
      model.saveAssets(dir);
    }
    Path file = dir.resolve("model.safetensors");
    // The header length says more than the file holds.
    byte[] corrupt = weights.clone();
    ByteBuffer.wrap(corrupt).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
    Files.write(file, corrupt);
    assertThatThrownBy(() -> RewardModels.create(spec(dir.toString(), 0, 64), Device.cpu()))
        .hasMessageContaining(file.toString())
        .hasMessageContaining("corrupt safetensors header");
    // The header is not JSON.
    corrupt = weights.clone();
    corrupt[8] = 'x';
    Files.write(file, corrupt);
    assertThatThrownBy(() -> RewardModels.create(spec(dir.toString(), 0, 64), Device.cpu()))
        .hasMessageContaining("not JSON");
    // Truncated data.
    Files.write(file, java.util.Arrays.copyOf(weights, weights.length - 1000));
    assertThatThrownBy(() -> RewardModels.create(spec(dir.toString(), 0, 64), Device.cpu()))
        .hasMessageContaining("truncated or corrupt");
    // Weights of a 1-layer model where the config says 6 layers: the missing tensor is named.
    Files.write(file, weights);
    Files.write(dir.resolve("config.json"), minilmConfig());
    assertThatThrownBy(() -> RewardModels.create(spec(dir.toString(), 0, 64), Device.cpu()))
        .hasMessageContaining("no tensor encoder.layer.1.attention.self.query.weight")
        .hasMessageContaining("(384, 384)");
  }

  /**
   * RoBERTa's layout: {@code <s> prompt </s></s> response </s>}, one token type, positions after
   * the padding id; a whole task model's {@code roberta.}-prefixed weights load into it.
   */
  @Test
  void aRobertaEncoderTakesItsOwnInputLayoutAndLoadsPrefixedWeights(@TempDir Path dir)
      throws Exception {
    String config =
        "{\"model_type\": \"roberta\", \"vocab_size\": 30522, \"hidden_size\": 32,"
            + " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"intermediate_size\": 64,"
            + " \"max_position_embeddings\": 66, \"type_vocab_size\": 1, \"pad_token_id\": 1,"
            + " \"layer_norm_eps\": 1e-5, \"hidden_act\": \"gelu\"}";
    Path random = Files.createDirectories(dir.resolve("random"));
    Files.writeString(random.resolve(EncoderReward.CONFIG_FILE), config);
    Files.write(random.resolve(EncoderReward.TOKENIZER_FILE), minilmTokenizer());
    ModelSpec spec = spec("unused", 0, 64);
    try (EncoderReward model =
        EncoderReward.forCheckpoint(
            spec, Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32, random)) {
      assertThat(model.config().maxTokens()).isEqualTo(64);
      long[][][] tokens = model.tokens(List.of(new Candidate("first second", "third fourth")));
      long[] ids = tokens[0][0];
      assertThat(ids).hasSize(8);
      assertThat(ids[0]).isEqualTo(101);
      assertThat(new long[] {ids[3], ids[4], ids[7]}).containsOnly(102);
      assertThat(tokens[1][0]).containsOnly(0); // one token type
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      model.saveParameters(out);
      Path hf = Files.createDirectories(dir.resolve("hf"));
      java.util.List<Tensor> prefixed = new java.util.ArrayList<>();
      for (Tensor t : Safetensors.read(out.toByteArray(), "saved").values()) {
        prefixed.add(new Tensor("roberta." + t.name(), t.shape(), t.values()));
      }
      try (var m = model.newBatchManager()) {
        Files.write(hf.resolve("model.safetensors"), Safetensors.write(prefixed, m));
      }
      Files.writeString(hf.resolve("config.json"), config);
      Files.write(hf.resolve("tokenizer.json"), minilmTokenizer());
      try (EncoderReward loaded =
          EncoderReward.pretrained(
              spec(hf.toString(), 0, 64), Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32)) {
        assertThat(
                maxDifference(
                    loaded.hiddenStates(TEXTS), model.hiddenStates(TEXTS), model.tokens(TEXTS)[0]))
            .isEqualTo(0);
      }
    }
  }

  @Test
  void maxTokensBeyondThePositionTableIsRefused() {
    assertThatThrownBy(() -> RewardModels.create(spec("minilm-l6", 1, 1024), Device.cpu()))
        .hasMessageContaining("model.max-tokens (1024)")
        .hasMessageContaining("512");
  }

  static byte[] minilmConfig() throws Exception {
    try (InputStream in =
        EncoderRewardTest.class
            .getClassLoader()
            .getResourceAsStream("io/prefstream/model/encoder/minilm-l6.config.json")) {
      return in.readAllBytes();
    }
  }

  static byte[] minilmTokenizer() throws Exception {
    try (InputStream in =
        EncoderRewardTest.class
            .getClassLoader()
            .getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      return in.readAllBytes();
    }
  }

  @Test
  void fp16ScoresFollowFp32Scores() throws Exception {
    ModelSpec spec = spec("minilm-l6", 2, 64);
    try (var fp32 = RewardModels.create(spec, Device.cpu(), "fp32");
        var fp16 = RewardModels.create(spec, Device.cpu(), "fp16")) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      fp32.saveParameters(out);
      fp16.loadParameters(new java.io.ByteArrayInputStream(out.toByteArray()));
      float[] a = fp32.score(TEXTS);
      float[] b = fp16.score(TEXTS);
      for (int i = 0; i < a.length; i++) {
        assertThat(b[i]).isCloseTo(a[i], within(0.01f + 0.01f * Math.abs(a[i])));
      }
    }
  }
}
