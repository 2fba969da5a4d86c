package io.prefstream.model.encoder;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Turns (prompt, response) into one encoder input: {@code [CLS] prompt [SEP] response [SEP]} for
 * BERT (token type 1 on the response), {@code <s> prompt </s></s> response </s>} for RoBERTa, under
 * {@code maxTokens}. When both do not fit, the prompt keeps its end (the latest turn) and the
 * response its start; the prompt keeps at least a quarter of the room when it is long, and
 * otherwise gives the response all it leaves. Tokenization is Hugging Face's own (DJL's binding of
 * the Rust tokenizers, from the model's {@code tokenizer.json}), without its truncation or padding.
 * Thread-safe.
 */
final class EncoderTokenizer implements AutoCloseable {

  /**
   * Texts are cut to this many characters per token of room before tokenizing (the prompt from its
   * end, the response from its start), so a megabyte of text costs no more than a page.
   */
  private static final int CHARS_PER_TOKEN_BOUND = 32;

  static {
    // DJL's tokenizer reports its use to an AWS endpoint unless told not to; nothing leaves here.
    System.setProperty("OPT_OUT_TRACKING", "true");
  }

  private final HuggingFaceTokenizer tokenizer;
  private final long first;
  private final long separator;
  private final boolean pairSeparatorTwice;
  private final boolean tokenTypes;
  private final int maxTokens;

  /**
   * One encoded candidate.
   *
   * @param ids token ids, special tokens included
   * @param types token type ids (1 on the response where the model has token types)
   * @param truncated whether the prompt or the response lost tokens
   */
  record Sequence(long[] ids, long[] types, boolean truncated) {}

  EncoderTokenizer(byte[] tokenizerJson, EncoderConfig config, int maxTokens) {
    try {
      this.tokenizer =
          HuggingFaceTokenizer.newInstance(
              new ByteArrayInputStream(tokenizerJson),
              Map.of(
                  "addSpecialTokens", "false",
                  "truncation", "false",
                  "padding", "false",
                  "modelMaxLength", String.valueOf(Integer.MAX_VALUE)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the tokenizer", e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("tokenizer.json is not a tokenizer: " + e.getMessage(), e);
    }
    long[] specials = tokenizer.encode("", true, false).getIds();
    if (specials.length != 2) {
      throw new IllegalArgumentException(
          "the tokenizer's template adds "
              + specials.length
              + " special tokens to a text, expected 2 ([CLS] and [SEP], or <s> and </s>)");
    }
    this.first = specials[0];
    this.separator = specials[1];
    this.pairSeparatorTwice = !config.modelType().equals("bert");
    this.tokenTypes = config.usesTokenTypes() && config.modelType().equals("bert");
    this.maxTokens = maxTokens;
  }

  /** Special tokens around the two texts. */
  int specialTokens() {
    return pairSeparatorTwice ? 4 : 3;
  }

  Sequence encode(String prompt, String response) {
    int room = maxTokens - specialTokens();
    int charBound = room * CHARS_PER_TOKEN_BOUND;
    String p = prompt.length() > charBound ? prompt.substring(prompt.length() - charBound) : prompt;
    String r = response.length() > charBound ? response.substring(0, charBound) : response;
    long[] pIds = tokens(p);
    long[] rIds = tokens(r);
    int promptKeep = pIds.length;
    int responseKeep = rIds.length;
    if (promptKeep + responseKeep > room) {
      promptKeep = Math.min(pIds.length, Math.max(room - rIds.length, room / 4));
      responseKeep = Math.min(rIds.length, room - promptKeep);
    }
    boolean truncated =
        promptKeep < pIds.length
            || responseKeep < rIds.length
            || p.length() < prompt.length()
            || r.length() < response.length();
    int length = promptKeep + responseKeep + specialTokens();
    long[] ids = new long[length];
    long[] types = new long[length];
    int k = 0;
    ids[k++] = first;
    System.arraycopy(pIds, pIds.length - promptKeep, ids, k, promptKeep);
    k += promptKeep;
    ids[k++] = separator;
    if (pairSeparatorTwice) {
      ids[k++] = separator;
    }
    int responseFrom = k;
    System.arraycopy(rIds, 0, ids, k, responseKeep);
    k += responseKeep;
    ids[k++] = separator;
    if (tokenTypes) {
      java.util.Arrays.fill(types, responseFrom, length, 1);
    }
    return new Sequence(ids, types, truncated);
  }

  private long[] tokens(String text) {
    return text.isEmpty() ? new long[0] : tokenizer.encode(text, false, false).getIds();
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
