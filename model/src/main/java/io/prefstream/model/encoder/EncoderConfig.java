package io.prefstream.model.encoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;

/**
 * The architecture of a BERT-family encoder, as a Hugging Face {@code config.json} states it. The
 * supported families share BERT's layout and absolute position embeddings: {@code bert}, and {@code
 * roberta} / {@code xlm-roberta}, whose positions start after the padding id (their token type
 * table has one row). Others (DeBERTa's relative attention, DistilBERT's naming, ALBERT's shared
 * layers) are refused when the config is read.
 *
 * @param modelType {@code bert}, {@code roberta} or {@code xlm-roberta}
 * @param vocabSize rows of the word embedding table
 * @param hidden width of every token's hidden state
 * @param layers transformer layers
 * @param heads attention heads per layer
 * @param intermediate width of each layer's feed-forward block
 * @param maxPositions rows of the position embedding table
 * @param typeVocab rows of the token type table
 * @param layerNormEps epsilon of every layer norm
 * @param padTokenId the padding token's id (RoBERTa's positions start after it)
 * @param hiddenAct the feed-forward activation: gelu (exact), gelu_new or gelu_pytorch_tanh (the
 *     tanh approximation), relu
 */
public record EncoderConfig(
    String modelType,
    int vocabSize,
    int hidden,
    int layers,
    int heads,
    int intermediate,
    int maxPositions,
    int typeVocab,
    double layerNormEps,
    int padTokenId,
    String hiddenAct) {

  /** The model types this encoder reads. */
  public static final List<String> SUPPORTED_TYPES = List.of("bert", "roberta", "xlm-roberta");

  private static final List<String> ACTIVATIONS =
      List.of("gelu", "gelu_new", "gelu_pytorch_tanh", "relu");
  private static final ObjectMapper JSON = new ObjectMapper();

  public EncoderConfig {
    if (!SUPPORTED_TYPES.contains(modelType)) {
      throw new IllegalArgumentException(
          "model_type '"
              + modelType
              + "' is not supported; supported: "
              + String.join(", ", SUPPORTED_TYPES)
              + " (BERT-family encoders with absolute position embeddings)");
    }
    if (!ACTIVATIONS.contains(hiddenAct)) {
      throw new IllegalArgumentException(
          "hidden_act '" + hiddenAct + "' is not supported; supported: " + ACTIVATIONS);
    }
    if (hidden <= 0 || heads <= 0 || hidden % heads != 0) {
      throw new IllegalArgumentException(
          "num_attention_heads (" + heads + ") must divide hidden_size (" + hidden + ")");
    }
    if (layers <= 0 || intermediate <= 0 || vocabSize <= 0 || typeVocab <= 0) {
      throw new IllegalArgumentException(
          "num_hidden_layers, intermediate_size, vocab_size and type_vocab_size must be positive");
    }
    if (maxPositions <= positionOffset(modelType, padTokenId) + 2) {
      throw new IllegalArgumentException(
          "max_position_embeddings (" + maxPositions + ") leaves no room for tokens");
    }
  }

  /** The first real token's position id: 0 for BERT, padding id + 1 for RoBERTa. */
  public int positionOffset() {
    return positionOffset(modelType, padTokenId);
  }

  private static int positionOffset(String modelType, int padTokenId) {
    return modelType.equals("bert") ? 0 : padTokenId + 1;
  }

  /** The longest sequence the position table covers, special tokens included. */
  public int maxTokens() {
    return maxPositions - positionOffset();
  }

  /** Whether the response is marked by token type 1 (BERT) or not at all (RoBERTa's one type). */
  public boolean usesTokenTypes() {
    return typeVocab > 1;
  }

  /**
   * Reads a Hugging Face {@code config.json}.
   *
   * @param source named in errors (the file, or the built-in model)
   * @throws IllegalArgumentException naming the source and the problem
   */
  public static EncoderConfig fromJson(byte[] json, String source) {
    JsonNode n;
    try {
      n = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException(source + " is not JSON: " + e.getMessage(), e);
    }
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException(source + " is not a JSON object");
    }
    String type = text(n, "model_type", source);
    String positions = n.path("position_embedding_type").asText("absolute");
    if (!positions.equals("absolute")) {
      throw new IllegalArgumentException(
          source
              + ": position_embedding_type '"
              + positions
              + "' is not supported (absolute only)");
    }
    try {
      return new EncoderConfig(
          type,
          integer(n, "vocab_size", source),
          integer(n, "hidden_size", source),
          integer(n, "num_hidden_layers", source),
          integer(n, "num_attention_heads", source),
          integer(n, "intermediate_size", source),
          integer(n, "max_position_embeddings", source),
          n.path("type_vocab_size").asInt(2),
          n.path("layer_norm_eps").asDouble(1e-12),
          n.path("pad_token_id").asInt(type.equals("bert") ? 0 : 1),
          n.path("hidden_act").asText("gelu"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  /**
   * This config as a Hugging Face {@code config.json}, so a checkpoint carries its architecture.
   */
  public byte[] toJson() {
    ObjectNode n = JSON.createObjectNode();
    n.put("model_type", modelType);
    n.put("vocab_size", vocabSize);
    n.put("hidden_size", hidden);
    n.put("num_hidden_layers", layers);
    n.put("num_attention_heads", heads);
    n.put("intermediate_size", intermediate);
    n.put("max_position_embeddings", maxPositions);
    n.put("type_vocab_size", typeVocab);
    n.put("layer_norm_eps", layerNormEps);
    n.put("pad_token_id", padTokenId);
    n.put("hidden_act", hiddenAct);
    n.put("position_embedding_type", "absolute");
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write an encoder config", e);
    }
  }

  /** The same architecture with only its lowest {@code count} layers. */
  public EncoderConfig withLayers(int count) {
    return new EncoderConfig(
        modelType,
        vocabSize,
        hidden,
        count,
        heads,
        intermediate,
        maxPositions,
        typeVocab,
        layerNormEps,
        padTokenId,
        hiddenAct);
  }

  private static String text(JsonNode n, String field, String source) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw new IllegalArgumentException(source + " has no " + field);
    }
    return v.asText();
  }

  private static int integer(JsonNode n, String field, String source) {
    JsonNode v = n.get(field);
    if (v == null || !v.canConvertToInt()) {
      throw new IllegalArgumentException(source + " has no whole number " + field);
    }
    return v.asInt();
  }
}
