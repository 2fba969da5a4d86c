package io.prefstream.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PushbackInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads preference datasets into training pairs: JSON Lines (optionally gzipped) in HH-RLHF form
 * ({@code chosen}/{@code rejected} whole dialogues) or {@code {prompt, chosen, rejected}}, and
 * PandaLM-style JSON arrays ({@code instruction}, {@code input}, {@code response1/2}, three
 * annotator labels; the majority label wins, ties and no-majority items are left out).
 */
public final class Datasets {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ASSISTANT = "\n\nAssistant:";

  private Datasets() {}

  /**
   * What a file held.
   *
   * @param pairs the usable pairs
   * @param skipped records left out (identical replies, no majority, missing fields)
   */
  public record Loaded(List<TrainingPair> pairs, int skipped) {}

  public static Loaded read(Path file) throws IOException {
    try (InputStream raw = Files.newInputStream(file)) {
      InputStream in = raw;
      PushbackInputStream peek = new PushbackInputStream(in, 2);
      int b1 = peek.read();
      int b2 = peek.read();
      if (b2 >= 0) {
        peek.unread(b2);
      }
      if (b1 >= 0) {
        peek.unread(b1);
      }
      in = b1 == 0x1f && b2 == 0x8b ? new GZIPInputStream(peek, 1 << 16) : peek;
      // A decoder of its own reports ill-formed UTF-8 (a charset would replace it, rewriting text).
      BufferedReader reader =
          new BufferedReader(
              new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()), 1 << 16);
      reader.mark(1 << 16);
      int first;
      do {
        first = reader.read();
      } while (first >= 0 && Character.isWhitespace(first));
      reader.reset();
      return first == '[' ? readArray(reader, file) : readLines(reader, file);
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new IOException(file + ": not well-formed UTF-8 (nothing of it was replaced)", e);
    }
  }

  private static Loaded readLines(BufferedReader reader, Path file) throws IOException {
    List<TrainingPair> pairs = new ArrayList<>();
    int skipped = 0;
    int lineNo = 0;
    for (String line = reader.readLine(); line != null; line = reader.readLine()) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (IOException e) {
        throw new IOException(file + " line " + lineNo + ": not JSON: " + e.getMessage(), e);
      }
      TrainingPair pair = node.has("prompt") ? plain(node) : hhRlhf(node);
      if (pair == null) {
        skipped++;
      } else {
        pairs.add(pair);
      }
    }
    return new Loaded(pairs, skipped);
  }

  private static TrainingPair plain(JsonNode node) {
    if (!node.hasNonNull("chosen") || !node.hasNonNull("rejected")) {
      return null;
    }
    String chosen = node.get("chosen").asText();
    String rejected = node.get("rejected").asText();
    if (chosen.equals(rejected)) {
      return null;
    }
    return TrainingPair.unweighted(node.get("prompt").asText(), chosen, rejected);
  }

  /**
   * Splits HH-RLHF dialogues at their longest common prefix cut back to the last {@code Assistant:}
   * turn, so the prompt is the shared context even where the dialogues fork earlier.
   */
  static TrainingPair hhRlhf(JsonNode node) {
    if (!node.hasNonNull("chosen") || !node.hasNonNull("rejected")) {
      return null;
    }
    String chosen = node.get("chosen").asText();
    String rejected = node.get("rejected").asText();
    if (chosen.equals(rejected)) {
      return null;
    }
    int common = 0;
    int limit = Math.min(chosen.length(), rejected.length());
    while (common < limit && chosen.charAt(common) == rejected.charAt(common)) {
      common++;
    }
    int cut = chosen.lastIndexOf(ASSISTANT, common - ASSISTANT.length());
    if (cut < 0) {
      return null;
    }
    int responseStart = cut + ASSISTANT.length();
    return TrainingPair.unweighted(
        chosen.substring(0, responseStart).strip(),
        chosen.substring(responseStart).strip(),
        rejected.substring(responseStart).strip());
  }

  private static Loaded readArray(BufferedReader reader, Path file) throws IOException {
    JsonNode array = JSON.readTree(reader);
    List<TrainingPair> pairs = new ArrayList<>();
    int skipped = 0;
    for (JsonNode node : array) {
      int[] votes = new int[3];
      for (String a : List.of("annotator1", "annotator2", "annotator3")) {
        int v = node.path(a).asInt(-1);
        if (v >= 0 && v <= 2) {
          votes[v]++;
        }
      }
      int winner =
          votes[1] > votes[2] && votes[1] > votes[0]
              ? 1
              : votes[2] > votes[1] && votes[2] > votes[0] ? 2 : 0;
      if (winner == 0 || !node.has("response1") || !node.has("response2")) {
        skipped++;
        continue;
      }
      String input = node.path("input").asText("");
      String prompt =
          node.path("instruction").asText("").strip() + (input.isBlank() ? "" : "\n\n" + input);
      String r1 = node.get("response1").asText();
      String r2 = node.get("response2").asText();
      if (r1.equals(r2)) {
        skipped++;
        continue;
      }
      pairs.add(TrainingPair.unweighted(prompt, winner == 1 ? r1 : r2, winner == 1 ? r2 : r1));
    }
    return new Loaded(pairs, skipped);
  }

  /** A stable share of pairs by a hash of the chosen reply: true for the evaluation part. */
  public static boolean inEvalSplit(TrainingPair pair, double share) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256")
              .digest(pair.chosen().getBytes(StandardCharsets.UTF_8));
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v = (v << 8) | (d[i] & 0xff);
      }
      return Long.remainderUnsigned(v, 10_000) < share * 10_000;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
