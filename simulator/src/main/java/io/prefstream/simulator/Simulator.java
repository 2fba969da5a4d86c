package io.prefstream.simulator;

import io.prefstream.avro.Annotator;
import io.prefstream.avro.AnnotatorKind;
import io.prefstream.avro.Exposure;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.ImplicitKind;
import io.prefstream.avro.ImplicitSignal;
import io.prefstream.avro.LabeledPair;
import io.prefstream.avro.PairwiseChoice;
import io.prefstream.avro.Ranking;
import io.prefstream.avro.Rating;
import io.prefstream.avro.Thumb;
import io.prefstream.schemas.JsonForm;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The simulated product: users with latent preferences over response traits that show in the text
 * ({@link Traits}) ask prompts from topics, see two to four template-built responses, and give
 * feedback drawn from a noisy Bradley-Terry / Plackett-Luce model of their utility. Annotators send
 * labeled pairs, some of them noisy or adversarial. Deterministic by seed; {@link #trueUtility}
 * exposes the population's utility so that learners can be scored against the truth.
 */
public final class Simulator {

  /**
   * Choice temperature: the utility gap at which users pick the better response 73% of the time.
   */
  private static final double TEMPERATURE = 0.5;

  private static final String[][] TOPICS = {
    {
      "How do I reverse a list in Python?",
      "Why does my Java function return null?",
      "How can I write a SQL query that groups by month?",
      "What regex matches an email address?",
      "How do I undo the last git commit?"
    },
    {
      "What should I pack for a week in Lisbon?",
      "How do I plan a budget trip to Japan?",
      "Which hikes near Zurich are good in autumn?",
      "How early should I arrive at the airport?"
    },
    {
      "How can I sleep better?",
      "What is a good beginner running plan?",
      "How much water should I drink a day?",
      "How do I start meditating?"
    },
    {
      "Can you explain compound interest?",
      "Should I pay off debt or invest first?",
      "How does an index fund work?",
      "What is an emergency fund?"
    }
  };

  /** The new topic of the input-drift scenario: long, formal legal questions. */
  private static final String[] NEW_TOPIC = {
    "Under the applicable statute of limitations, how long may a tenant wait before contesting a"
        + " deposit deduction made by the landlord at the end of a residential lease?",
    "What are the formal requirements for a valid last will and testament, and what happens when"
        + " one of the witnesses is also a beneficiary named in it?",
    "If a contractor misses a completion deadline written into the agreement, which remedies does"
        + " the client have, and must the client first send a written notice of default?"
  };

  private static final String[] SENTENCES = {
    "The short answer is that it depends on what you want to optimise for.",
    "Start with the simplest approach and measure before changing anything.",
    "Most people find that a small, steady routine works better than a big plan.",
    "Keep notes of what you tried so that you can compare the results later.",
    "A common mistake is to change several things at once.",
    "If something goes wrong, go back to the last step that worked.",
    "There are trade-offs, and the right choice depends on your constraints.",
    "It helps to write down the goal in one sentence first.",
    "Experts usually recommend checking the official documentation as well.",
    "Small improvements add up over a few weeks."
  };

  private final SimulatorConfig config;
  private final SplittableRandom random;
  private final double[][] userOffsets;
  private final int annotators = 20;
  private final int[] annotatorKind; // 0 careful, 1 noisy, 2 adversarial
  private final SplittableRandom overlap; // second annotators of labeled pairs
  private final SplittableRandom revisits; // second ratings (its own stream: the rest is as before)
  private long interaction;
  private long eventCounter;

  public Simulator(SimulatorConfig config) {
    this.config = config;
    this.random = new SplittableRandom(config.seed());
    this.overlap = new SplittableRandom(config.seed() ^ 0x5DEECE66DL);
    this.revisits = new SplittableRandom(config.seed() ^ 0x2545F4914F6CDD1DL);
    this.userOffsets = new double[config.users()][];
    for (int u = 0; u < config.users(); u++) {
      userOffsets[u] = new double[5];
      for (int k = 0; k < 5; k++) {
        userOffsets[u][k] = 0.3 * gaussian();
      }
    }
    this.annotatorKind = new int[annotators];
    for (int a = 0; a < annotators; a++) {
      double p = random.nextDouble();
      annotatorKind[a] =
          p < config.adversarialAnnotators()
              ? 2
              : p < config.adversarialAnnotators() + config.noisyAnnotators() ? 1 : 0;
    }
  }

  public SimulatorConfig config() {
    return config;
  }

  /** The population's preferences at a time: before or after the configured shift. */
  public Preferences preferencesAt(Instant at) {
    return config.shiftAt() != null && !at.isBefore(config.shiftAt())
        ? Preferences.AFTER
        : Preferences.BEFORE;
  }

  /** The population's true utility of a response to a prompt at a time. */
  public double trueUtility(String prompt, String response, Instant at) {
    return preferencesAt(at).utility(prompt, response);
  }

  /** True when the population prefers {@code chosen} over {@code rejected} at that time. */
  public boolean agreesWithTruth(String prompt, String chosen, String rejected, Instant at) {
    return trueUtility(prompt, chosen, at) > trueUtility(prompt, rejected, at);
  }

  /** Simulated time of the next interaction. */
  public Instant now() {
    return config.start().plus(config.step().multipliedBy(interaction));
  }

  /** The events of the next interaction, in event-time order (plus any malformed extras). */
  public List<SimulatedEvent> nextInteraction() {
    Instant at = now();
    String id = "s" + config.seed() + "-i" + interaction;
    interaction++;
    String prompt = prompt(at);
    List<SimulatedEvent> out = new ArrayList<>();
    if (random.nextDouble() < config.mix().labeledPair()) {
      labeledPair(out, id, prompt, at);
    } else {
      userInteraction(out, id, prompt, at);
    }
    if (config.malformedShare() > 0) {
      int valid = out.size();
      for (int i = 0; i < valid; i++) {
        if (random.nextDouble() < config.malformedShare() && !out.get(i).isMalformed()) {
          out.add(malformed(out.get(i).event()));
        }
      }
    }
    return out;
  }

  /** The next {@code n} events (whole interactions, so possibly a few more). */
  public List<SimulatedEvent> next(int n) {
    List<SimulatedEvent> out = new ArrayList<>(n + 16);
    while (out.size() < n) {
      out.addAll(nextInteraction());
    }
    return out;
  }

  private void userInteraction(List<SimulatedEvent> out, String id, String prompt, Instant at) {
    int user = random.nextInt(config.users());
    Preferences prefs = preferencesAt(at).plus(userOffsets[user]);
    int k = 2 + random.nextInt(3);
    List<String> responses = new ArrayList<>(k);
    double[] utility = new double[k];
    String policy = "m-" + (1 + random.nextInt(3));
    for (int j = 0; j < k; j++) {
      String response = response(prompt);
      responses.add(response);
      utility[j] = prefs.utility(prompt, response);
      Exposure exposure =
          Exposure.newBuilder()
              .setResponseId(id + "-r" + j)
              .setPrompt(prompt)
              .setResponse(response)
              .setPolicy(policy)
              .setPosition(j)
              .build();
      out.add(event(id, user, at.plusMillis(j), exposure));
    }
    Instant later = at.plusSeconds(2);
    Annotator self = new Annotator("u" + user, AnnotatorKind.END_USER, 1.0);
    if (random.nextDouble() < config.mix().pairwise()) {
      int a = random.nextInt(k);
      int b = (a + 1 + random.nextInt(k - 1)) % k;
      boolean aWins = random.nextDouble() < sigmoid((utility[a] - utility[b]) / TEMPERATURE);
      double strength = Math.min(1.0, Math.abs(utility[a] - utility[b]));
      out.add(
          event(
              id,
              user,
              later,
              PairwiseChoice.newBuilder()
                  .setChosenResponseId(id + "-r" + (aWins ? a : b))
                  .setRejectedResponseId(id + "-r" + (aWins ? b : a))
                  .setStrength(Math.max(0.1, strength))
                  .setAnnotator(self)
                  .build()));
    }
    if (k >= 3 && random.nextDouble() < config.mix().ranking()) {
      out.add(
          event(
              id,
              user,
              later.plusMillis(1),
              Ranking.newBuilder()
                  .setResponseIds(plackettLuce(utility).stream().map(j -> id + "-r" + j).toList())
                  .setAnnotator(self)
                  .build()));
    }
    for (int j = 0; j < k; j++) {
      if (random.nextDouble() < config.mix().rating()) {
        double noisy = utility[j] + 0.5 * gaussian();
        out.add(
            event(
                id,
                user,
                later.plusMillis(10 + j),
                Rating.newBuilder()
                    .setResponseId(id + "-r" + j)
                    .setValue(Math.round(1 + 4 * sigmoid(noisy - 0.5)))
                    .setAnnotator(self)
                    .build()));
        if (revisits.nextDouble() < config.mix().rerating()) {
          // A second look a few seconds later, in the same session: the same user rates the
          // same response again, with fresh noise (it may reverse a pair of the first ratings).
          double again = utility[j] + 0.5 * gaussian(revisits);
          out.add(
              event(
                  id,
                  user,
                  later.plusSeconds(3).plusMillis(j),
                  Rating.newBuilder()
                      .setResponseId(id + "-r" + j)
                      .setValue(Math.round(1 + 4 * sigmoid(again - 0.5)))
                      .setAnnotator(self)
                      .build()));
        }
      }
    }
    if (random.nextDouble() < config.mix().thumb()) {
      int j = random.nextInt(k);
      out.add(
          event(
              id,
              user,
              later.plusMillis(20),
              Thumb.newBuilder()
                  .setResponseId(id + "-r" + j)
                  .setUp(utility[j] + 0.5 * gaussian() > 0.5)
                  .setAnnotator(self)
                  .build()));
    }
    if (random.nextDouble() < config.mix().implicit()) {
      implicit(out, id, user, later.plusMillis(30), utility);
    }
  }

  /** Users regenerate when nothing is good, copy or accept what is, and dwell by utility. */
  private void implicit(
      List<SimulatedEvent> out, String id, int user, Instant at, double[] utility) {
    int best = 0;
    for (int j = 1; j < utility.length; j++) {
      if (utility[j] > utility[best]) {
        best = j;
      }
    }
    for (int j = 0; j < utility.length; j++) {
      double u = utility[j] + 0.3 * gaussian();
      Instant t = at.plusMillis(j * 5L);
      out.add(signal(id, user, t, j, ImplicitKind.DWELL, Math.round(5 + 40 * sigmoid(u - 0.5))));
      if (j == best && u > 0.8 && random.nextDouble() < 0.6) {
        out.add(signal(id, user, t.plusMillis(1), j, ImplicitKind.COPY, 1.0));
      }
      if (j == best && u > 1.2 && random.nextDouble() < 0.3) {
        out.add(signal(id, user, t.plusMillis(2), j, ImplicitKind.ACCEPT, 1.0));
      }
      if (u < 0 && random.nextDouble() < 0.5) {
        out.add(signal(id, user, t.plusMillis(3), j, ImplicitKind.REGENERATE, 1.0));
      }
    }
  }

  private SimulatedEvent signal(
      String id, int user, Instant at, int j, ImplicitKind kind, double v) {
    return event(
        id,
        user,
        at,
        ImplicitSignal.newBuilder().setResponseId(id + "-r" + j).setKind(kind).setValue(v).build());
  }

  private void labeledPair(List<SimulatedEvent> out, String id, String prompt, Instant at) {
    int annotator = random.nextInt(annotators);
    String a = response(prompt);
    String b = response(prompt);
    while (b.equals(a)) {
      b = response(prompt);
    }
    double gap = preferencesAt(at).utility(prompt, a) - preferencesAt(at).utility(prompt, b);
    out.add(event(id, -1, at, label(annotator, prompt, a, b, aWins(annotator, gap, random))));
    // A second annotator, drawn from its own stream so that the rest of the run is unchanged.
    if (overlap.nextDouble() < config.annotatorOverlap()) {
      int second = (annotator + 1 + overlap.nextInt(annotators - 1)) % annotators;
      boolean wins = aWins(second, gap, overlap);
      out.add(event(id, -1, at.plusSeconds(1), label(second, prompt, a, b, wins)));
    }
  }

  private boolean aWins(int annotator, double gap, SplittableRandom r) {
    return switch (annotatorKind[annotator]) {
      case 1 -> r.nextBoolean();
      case 2 -> gap < 0;
      default -> r.nextDouble() < sigmoid(gap / (TEMPERATURE / 2));
    };
  }

  private static LabeledPair label(
      int annotator, String prompt, String a, String b, boolean aWins) {
    return LabeledPair.newBuilder()
        .setPrompt(prompt)
        .setChosen(aWins ? a : b)
        .setRejected(aWins ? b : a)
        .setAnnotator(new Annotator("annotator-" + annotator, AnnotatorKind.HUMAN, 0.9))
        .setConfidence(0.9)
        .build();
  }

  /** A deliberately invalid copy of an event (new id), and the field ingest should name. */
  private SimulatedEvent malformed(FeedbackEvent valid) {
    var json = JsonForm.of(FeedbackEvent.class).toJson(valid);
    json.put("event_id", valid.getEventId() + "-bad");
    switch (random.nextInt(4)) {
      case 0 -> {
        json.remove("interaction_id");
        return SimulatedEvent.malformed(json.toString(), "interaction_id");
      }
      case 1 -> {
        json.put("occurred_at", "yesterday-ish");
        return SimulatedEvent.malformed(json.toString(), "occurred_at");
      }
      case 2 -> {
        json.put("sentiment", "positive");
        return SimulatedEvent.malformed(json.toString(), "sentiment");
      }
      default -> {
        String text = json.toString();
        return SimulatedEvent.malformed(text.substring(0, text.length() / 2), "$");
      }
    }
  }

  private SimulatedEvent event(String interactionId, int user, Instant at, Object payload) {
    FeedbackEvent.Builder event =
        FeedbackEvent.newBuilder()
            .setEventId("s" + config.seed() + "-e" + eventCounter++)
            .setTenantId(config.tenant())
            .setOccurredAt(at)
            .setApp("sim-chat")
            .setInteractionId(interactionId)
            .setPayload(payload);
    if (user >= 0) {
      event.setUserId("u" + user).setSessionId("u" + user + "-s" + (interaction / 50));
    }
    return SimulatedEvent.valid(event.build());
  }

  private String prompt(Instant at) {
    if (config.newTopicAt() != null
        && !at.isBefore(config.newTopicAt())
        && random.nextDouble() < 0.5) {
      return NEW_TOPIC[random.nextInt(NEW_TOPIC.length)];
    }
    String[] topic = TOPICS[random.nextInt(TOPICS.length)];
    return topic[random.nextInt(topic.length)];
  }

  /** A response built from parts, each trait present at random. */
  private String response(String prompt) {
    StringBuilder text = new StringBuilder();
    if (random.nextDouble() < 0.35) {
      text.append(Traits.POLITE.get(random.nextInt(2))).append(' ');
    }
    if (random.nextDouble() < 0.3) {
      text.append(Traits.HEDGES.get(random.nextInt(Traits.HEDGES.size()))).append(' ');
    }
    int sentences = 1 + (int) Math.floor(Math.pow(random.nextDouble(), 1.5) * 16);
    for (int s = 0; s < sentences; s++) {
      text.append(SENTENCES[random.nextInt(SENTENCES.length)]).append(' ');
    }
    if (random.nextDouble() < 0.35) {
      text.append("\n");
      int items = 2 + random.nextInt(3);
      for (int i = 0; i < items; i++) {
        text.append("- ").append(SENTENCES[random.nextInt(SENTENCES.length)]).append('\n');
      }
    }
    double codeChance = Traits.technical(prompt) ? 0.5 : 0.15;
    if (random.nextDouble() < codeChance) {
      text.append("\n```\nresult = solve(problem)\nprint(result)\n```\n");
    }
    if (random.nextDouble() < 0.2) {
      text.append(Traits.POLITE.get(2 + random.nextInt(2)));
    }
    return text.toString().strip();
  }

  /** A ranking drawn from the Plackett-Luce model: best first, each pick softmax(u / T). */
  private List<Integer> plackettLuce(double[] utility) {
    List<Integer> left = new ArrayList<>(IntStream.range(0, utility.length).boxed().toList());
    List<Integer> ranking = new ArrayList<>();
    while (!left.isEmpty()) {
      double max = left.stream().mapToDouble(j -> utility[j]).max().orElse(0);
      double[] weights =
          left.stream().mapToDouble(j -> Math.exp((utility[j] - max) / TEMPERATURE)).toArray();
      double total = 0;
      for (double w : weights) {
        total += w;
      }
      double pick = random.nextDouble() * total;
      int chosen = left.size() - 1;
      for (int i = 0; i < weights.length; i++) {
        pick -= weights[i];
        if (pick <= 0) {
          chosen = i;
          break;
        }
      }
      ranking.add(left.remove(chosen));
    }
    return ranking;
  }

  private double gaussian() {
    return gaussian(random);
  }

  private static double gaussian(SplittableRandom random) {
    // Box-Muller on the seeded generator (SplittableRandom has no nextGaussian on Java 17).
    double u1 = 1.0 - random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }
}
