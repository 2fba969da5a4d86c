package io.prefstream.simulator;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How often each kind of feedback follows an interaction (probabilities, independent): pairwise
 * choice, ranking, a rating per response, a thumb, implicit signals; {@code labeledPair} is the
 * share of interactions that come from annotators as labeled pairs instead of users; {@code
 * rerating} the share of ratings the user gives again a few seconds later (a second look, which may
 * reverse a pair the first ratings made).
 */
public record Mix(
    double pairwise,
    double ranking,
    double rating,
    double thumb,
    double implicit,
    double labeledPair,
    double rerating) {

  public static final Mix DEFAULT = new Mix(0.35, 0.15, 0.25, 0.3, 0.6, 0.1, 0.05);

  public Mix {
    for (double p :
        new double[] {pairwise, ranking, rating, thumb, implicit, labeledPair, rerating}) {
      if (!(p >= 0 && p <= 1)) {
        throw new IllegalArgumentException("mix probabilities must be in [0, 1], got " + p);
      }
    }
  }

  /** Parses {@code pairwise=0.5,ranking=0.1,...}; kinds left out keep their default. */
  public static Mix parse(String spec) {
    Map<String, Double> values = new LinkedHashMap<>(DEFAULT.asMap());
    for (String part : spec.split(",")) {
      if (part.isBlank()) {
        continue;
      }
      String[] kv = part.split("=", 2);
      String kind = kv[0].strip().toLowerCase(Locale.ROOT).replace('-', '_');
      if (kv.length != 2 || !values.containsKey(kind)) {
        throw new IllegalArgumentException(
            "mix: expected KIND=P with KIND one of " + values.keySet() + ", got '" + part + "'");
      }
      values.put(kind, Double.parseDouble(kv[1].strip()));
    }
    return new Mix(
        values.get("pairwise"),
        values.get("ranking"),
        values.get("rating"),
        values.get("thumb"),
        values.get("implicit"),
        values.get("labeled_pair"),
        values.get("rerating"));
  }

  public Map<String, Double> asMap() {
    Map<String, Double> map = new LinkedHashMap<>();
    map.put("pairwise", pairwise);
    map.put("ranking", ranking);
    map.put("rating", rating);
    map.put("thumb", thumb);
    map.put("implicit", implicit);
    map.put("labeled_pair", labeledPair);
    map.put("rerating", rerating);
    return map;
  }
}
