package io.prefstream.simulator;

/**
 * Weights of the traits in a latent utility: {@code u = w · traits}, where the code weight depends
 * on whether the prompt is technical. The population has one set before a preference shift and
 * another after; each user deviates from the population by a fixed personal offset.
 */
public record Preferences(
    double length,
    double list,
    double codeTechnical,
    double codeOther,
    double polite,
    double hedge) {

  /** Before the shift: detail, lists and code (where apt) are liked, hedging is not. */
  public static final Preferences BEFORE = new Preferences(1.2, 0.8, 1.5, -0.6, 0.4, -0.9);

  /** After the shift: users want it short; politeness now reads as filler. */
  public static final Preferences AFTER = new Preferences(-1.2, 0.3, 1.5, -0.6, -0.5, -0.9);

  public double utility(String prompt, String response) {
    Traits t = Traits.of(response);
    double code = Traits.technical(prompt) ? codeTechnical : codeOther;
    return length * t.length()
        + list * t.list()
        + code * t.code()
        + polite * t.polite()
        + hedge * t.hedge();
  }

  Preferences plus(double[] offset) {
    return new Preferences(
        length + offset[0],
        list + offset[1],
        codeTechnical + offset[2],
        codeOther + offset[2],
        polite + offset[3],
        hedge + offset[4]);
  }
}
