package io.prefstream.simulator;

import java.util.List;
import java.util.Locale;

/**
 * The response traits simulated users care about, read off the text itself, so that the true
 * utility of any (prompt, response) can be computed by anyone holding the texts: length, a bulleted
 * list, a code block, politeness, hedging.
 *
 * @param length words / 200, capped at 1
 * @param list 1 when at least two lines are bullets
 * @param code 1 when there is a fenced code block
 * @param polite 1 when a polite phrase opens or closes it
 * @param hedge 1 when it hedges
 */
public record Traits(double length, double list, double code, double polite, double hedge) {

  static final List<String> POLITE =
      List.of("Happy to help!", "Great question!", "I hope this helps.", "Thanks for asking.");
  static final List<String> HEDGES =
      List.of("I might be wrong, but", "It may depend on your setup, but", "As far as I know,");

  public static Traits of(String response) {
    String[] words = response.trim().split("\\s+");
    int bullets = 0;
    for (String line : response.split("\n")) {
      if (line.startsWith("- ")) {
        bullets++;
      }
    }
    return new Traits(
        Math.min(1.0, (response.isBlank() ? 0 : words.length) / 200.0),
        bullets >= 2 ? 1 : 0,
        response.contains("```") ? 1 : 0,
        POLITE.stream().anyMatch(response::contains) ? 1 : 0,
        HEDGES.stream().anyMatch(response::contains) ? 1 : 0);
  }

  /** Whether a prompt asks about programming (code blocks are welcome there). */
  public static boolean technical(String prompt) {
    String p = prompt.toLowerCase(Locale.ROOT);
    for (String word : List.of("python", "java", "sql", "regex", "function", "bug", "git ")) {
      if (p.contains(word)) {
        return true;
      }
    }
    return false;
  }
}
