package io.prefstream.model.ngram;

import java.util.Arrays;
import java.util.List;

/**
 * Explicit structure of a response, scaled to roughly [0, 1]: length, lines, list items, code
 * blocks, questions, links, headings, emphasis, and how it relates to the prompt. Hashed n-grams
 * see words; these see shape, which users' preferences (and reward hacking) often follow.
 */
public final class StructureFeatures {

  /** Names in order, for documentation and checkpoints. */
  public static final List<String> NAMES =
      List.of(
          "log_words",
          "log_lines",
          "log_list_items",
          "has_list",
          "code_blocks",
          "has_code",
          "log_questions",
          "log_links",
          "log_headings",
          "digit_share",
          "upper_share",
          "log_exclamations",
          "words_per_sentence",
          "prompt_overlap",
          "log_length_ratio",
          "empty",
          "non_ascii_share",
          "log_prompt_words",
          "log_paragraphs",
          "log_emphasis");

  public static final int SIZE = NAMES.size();

  private StructureFeatures() {}

  /** The structure features of a response to a prompt. */
  public static float[] of(String prompt, String response) {
    NgramFeaturizer.Tokens p = NgramFeaturizer.Tokens.of(prompt);
    return of(p.distinct(), p.count, response, NgramFeaturizer.Tokens.of(response));
  }

  static float[] of(
      long[] promptWords,
      int promptWordCount,
      String response,
      NgramFeaturizer.Tokens responseTokens) {
    int words = responseTokens.count;
    int lines = 0;
    int listItems = 0;
    int headings = 0;
    int paragraphs = 0;
    int fences = 0;
    boolean blankBefore = true;
    int lineStart = 0;
    int length = response.length();
    while (lineStart <= length) {
      int lineEnd = response.indexOf('\n', lineStart);
      if (lineEnd < 0) {
        lineEnd = length;
      }
      int s = lineStart;
      while (s < lineEnd && (response.charAt(s) == ' ' || response.charAt(s) == '\t')) {
        s++;
      }
      boolean blank = s == lineEnd;
      if (!blank) {
        lines++;
        if (blankBefore) {
          paragraphs++;
        }
        if (isListItem(response, s, lineEnd)) {
          listItems++;
        }
        if (response.charAt(s) == '#') {
          headings++;
        }
        if (response.startsWith("```", s)) {
          fences++;
        }
      }
      blankBefore = blank;
      lineStart = lineEnd + 1;
    }
    int questions = 0;
    int exclamations = 0;
    int sentences = 0;
    int digits = 0;
    int letters = 0;
    int upper = 0;
    int nonAscii = 0;
    int emphasis = 0;
    for (int i = 0; i < length; i++) {
      char c = response.charAt(i);
      switch (c) {
        case '?' -> {
          questions++;
          sentences++;
        }
        case '!' -> {
          exclamations++;
          sentences++;
        }
        case '.' -> sentences++;
        case '*' -> {
          if (i + 1 < length && response.charAt(i + 1) == '*') {
            emphasis++;
            i++;
          }
        }
        default -> {}
      }
      if (Character.isDigit(c)) {
        digits++;
      } else if (Character.isLetter(c)) {
        letters++;
        if (Character.isUpperCase(c)) {
          upper++;
        }
      }
      if (c > 127) {
        nonAscii++;
      }
    }
    int links = count(response, "http://") + count(response, "https://") + count(response, "www.");
    float[] f = new float[SIZE];
    f[0] = log(words) / 6;
    f[1] = log(lines) / 4;
    f[2] = log(listItems) / 3;
    f[3] = listItems >= 2 ? 1 : 0;
    f[4] = Math.min(fences / 2, 4) / 2f;
    f[5] = fences >= 2 ? 1 : 0;
    f[6] = log(questions) / 2;
    f[7] = log(links) / 2;
    f[8] = log(headings) / 2;
    f[9] = length == 0 ? 0 : Math.min(1f, 5f * digits / length);
    f[10] = letters == 0 ? 0 : (float) upper / letters;
    f[11] = log(exclamations) / 2;
    f[12] = Math.min(2f, words / (30f * Math.max(1, sentences)));
    f[13] = jaccard(promptWords, responseTokens);
    f[14] = (float) Math.log((1.0 + words) / (1.0 + promptWordCount)) / 4;
    f[15] = response.isBlank() ? 1 : 0;
    f[16] = length == 0 ? 0 : (float) nonAscii / length;
    f[17] = log(promptWordCount) / 6;
    f[18] = log(paragraphs) / 3;
    f[19] = log(emphasis) / 2;
    return f;
  }

  private static boolean isListItem(String s, int from, int to) {
    char c = s.charAt(from);
    if ((c == '-' || c == '*' || c == '•') && from + 1 < to && s.charAt(from + 1) == ' ') {
      return true;
    }
    int i = from;
    while (i < to && Character.isDigit(s.charAt(i))) {
      i++;
    }
    return i > from
        && i + 1 < to
        && (s.charAt(i) == '.' || s.charAt(i) == ')')
        && s.charAt(i + 1) == ' ';
  }

  private static int count(String text, String part) {
    int n = 0;
    for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length())) {
      n++;
    }
    return n;
  }

  private static float log(int n) {
    return NgramFeaturizer.log1p(n);
  }

  /**
   * |P ∩ R| / |P ∪ R| of the prompt's distinct words ({@code promptWords}, sorted) and the
   * response's: the response's are made distinct in an open-addressing set rather than sorted.
   */
  static float jaccard(long[] promptWords, NgramFeaturizer.Tokens response) {
    if (promptWords.length == 0 || response.count == 0) {
      return 0;
    }
    int shift = Long.numberOfLeadingZeros(2L * response.count - 1) - 1; // load at most 1/2
    long[] seen = new long[1 << (64 - shift)];
    boolean seenZero = false;
    int distinct = 0;
    int both = 0;
    for (int t = 0; t < response.count; t++) {
      long h = response.hashes[t];
      boolean added;
      if (h == 0) { // 0 marks an empty slot, so a zero hash is kept apart
        added = !seenZero;
        seenZero = true;
      } else {
        int slot = (int) ((h * 0x9E3779B97F4A7C15L) >>> shift);
        while (seen[slot] != 0 && seen[slot] != h) {
          slot = (slot + 1) & (seen.length - 1);
        }
        added = seen[slot] == 0;
        seen[slot] = h;
      }
      if (added) {
        distinct++;
        if (Arrays.binarySearch(promptWords, h) >= 0) {
          both++;
        }
      }
    }
    return (float) both / (promptWords.length + distinct - both);
  }
}
