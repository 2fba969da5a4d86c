package io.prefstream.pairs.internal;

import io.prefstream.avro.Annotator;
import io.prefstream.avro.Exposure;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.ImplicitKind;
import io.prefstream.avro.ImplicitSignal;
import io.prefstream.avro.LabeledPair;
import io.prefstream.avro.PairwiseChoice;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.Ranking;
import io.prefstream.avro.Rating;
import io.prefstream.avro.SourceKind;
import io.prefstream.avro.Split;
import io.prefstream.avro.Thumb;
import io.prefstream.pairs.PairSemantics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The rules of DESIGN.md "Turning events into pairs", as plain functions of an interaction's
 * events. Stated pairs (labeled pair, pairwise choice, ranking) come from one event; derived pairs
 * from the whole interaction: explicit ones (ratings, thumbs) as soon as both sides are known, and
 * implicit ones (utility) when the interaction's signals have settled (its kinds' session gaps),
 * each kept in {@link Explicit} and revised when later feedback reverses it.
 */
public final class PairRules {

  public static final String LATE = "LATE";
  public static final String CONTRADICTS_SAME_ANNOTATOR = "CONTRADICTS_SAME_ANNOTATOR";
  public static final String REVISES = "REVISES";

  /** Why a would-be pair was not emitted. */
  public enum Drop {
    TIE,
    IDENTICAL_TEXTS,
    ZERO_WEIGHT,
    SUPERSEDED_BY_EXPLICIT
  }

  /** Receives the rules' decisions. */
  public interface Output {
    void pair(PreferencePair pair);

    void dropped(Drop reason);
  }

  /**
   * The derived pairs an interaction has emitted: for each unordered pair of responses (of one
   * annotator and criterion for ratings and thumbs; of the implicit signals), which response it
   * chose and the id of the pair that said so last.
   */
  public interface Explicit {
    /** {chosen response id, pair id} last emitted for the unordered pair {@code key}, or null. */
    String[] emitted(String key);

    void record(String key, String chosenResponseId, String pairId);
  }

  private static final ImplicitKind[] KINDS = ImplicitKind.values();

  private final PairSemantics semantics;
  private final PairIds ids = new PairIds();

  public PairRules(PairSemantics semantics) {
    this.semantics = semantics;
  }

  /** A labeled pair carries its texts: one pair, at once. */
  void labeled(FeedbackEvent event, boolean late, Output out) {
    LabeledPair p = (LabeledPair) event.getPayload();
    String pairId =
        ids.pairId(
            event.getTenantId(), event.getInteractionId(), "LABELED_PAIR", event.getEventId());
    double weight = p.getConfidence() * confidence(p.getAnnotator());
    emit(
        out,
        new Draft(event.getTenantId(), event.getInteractionId(), SourceKind.LABELED_PAIR, pairId)
            .texts(p.getPrompt(), p.getChosen(), p.getRejected())
            .weighted(weight, 0.0)
            .from(p.getAnnotator(), p.getCriterion())
            .event(event.getEventId(), event.getOccurredAt().toEpochMilli())
            .late(late));
  }

  /**
   * The pairs a pairwise choice or ranking states, once every response it names is exposed.
   *
   * @return false when some response is not exposed yet (nothing decided: the event waits)
   */
  boolean stated(FeedbackEvent event, InteractionView view, boolean late, Output out) {
    List<String[]> orders = orders(event);
    for (String[] o : orders) {
      if (!view.exposed(o[0]) || !view.exposed(o[1])) {
        return false;
      }
    }
    Object payload = event.getPayload();
    if (payload instanceof PairwiseChoice c && c.getTie()) {
      out.dropped(Drop.TIE);
      return true;
    }
    Set<String> contradicted = contradictions(event, view);
    SourceKind source =
        payload instanceof Ranking ? SourceKind.RANKING : SourceKind.PAIRWISE_CHOICE;
    Annotator annotator = annotator(event);
    String criterion = criterion(event);
    // A ranking of k weighs no more than the k-1 choices that would express it.
    double weight =
        payload instanceof PairwiseChoice c
            ? c.getStrength() * confidence(annotator)
            : confidence(annotator) * 2.0 / ((Ranking) payload).getResponseIds().size();
    for (String[] o : orders) {
      String pairId =
          ids.pairId(view.tenant, view.interaction, source.name(), event.getEventId(), o[0], o[1]);
      Draft d =
          new Draft(view.tenant, view.interaction, source, pairId)
              .responses(view, o[0], o[1])
              .weighted(weight, 0.0)
              .from(annotator, criterion)
              .event(event.getEventId(), event.getOccurredAt().toEpochMilli())
              .late(late);
      if (contradicted.contains(o[0] + "\u0000" + o[1])) {
        d.flags.add(CONTRADICTS_SAME_ANNOTATOR);
      }
      emit(out, d);
    }
    return true;
  }

  /** True for the events that state pairs of exposed responses: pairwise choices and rankings. */
  static boolean states(FeedbackEvent event) {
    return event.getPayload() instanceof PairwiseChoice || event.getPayload() instanceof Ranking;
  }

  /** The response ids an event names (choice, ranking, rating, thumb, signal), exposed or not. */
  static List<String> referenced(FeedbackEvent event) {
    Object payload = event.getPayload();
    if (payload instanceof PairwiseChoice c) {
      return List.of(c.getChosenResponseId(), c.getRejectedResponseId());
    } else if (payload instanceof Ranking r) {
      return r.getResponseIds();
    } else if (payload instanceof Rating r) {
      return List.of(r.getResponseId());
    } else if (payload instanceof Thumb t) {
      return List.of(t.getResponseId());
    } else if (payload instanceof ImplicitSignal s) {
      return List.of(s.getResponseId());
    }
    return List.of();
  }

  /**
   * Pairs derived from the whole interaction when its signals have settled: the explicit ones (see
   * {@link #explicit}) and implicit utility gaps that no explicit signal contradicts, an implicit
   * pair whose order later signals reversed emitted the new way round as a revision. Only responses
   * with an exposure take part.
   */
  void derived(InteractionView view, boolean late, Explicit emitted, Output out) {
    explicit(view, late, emitted, out);
    for (FeedbackEvent e : view.events) {
      if (e.getPayload() instanceof ImplicitSignal) {
        implicit(view, late, emitted, out);
        return;
      }
    }
  }

  /**
   * Explicit derived pairs, as soon as both sides are known: ratings by the same annotator and
   * criterion that differ, thumbs up versus down by the same annotator, each from the latest rating
   * or thumb of each exposed response. A pair already emitted is not emitted again; one whose order
   * a later rating or thumb reversed is emitted the new way round, flagged {@link #REVISES} and
   * naming the pair it corrects.
   */
  void explicit(InteractionView view, boolean late, Explicit explicit, Output out) {
    boolean ratings = false;
    boolean thumbs = false;
    for (FeedbackEvent e : view.events) {
      Object payload = e.getPayload();
      ratings |= payload instanceof Rating;
      thumbs |= payload instanceof Thumb;
    }
    if (ratings) {
      ratings(view, late, explicit, out);
    }
    if (thumbs) {
      thumbs(view, late, explicit, out);
    }
  }

  /**
   * Emits {@code d} (its id is the unordered pair's) unless the pair already stands this way round;
   * if it stood the other way, as a revision of the pair that said so.
   */
  private void decide(Explicit explicit, Draft d, String revisingEventId, Output out) {
    String[] before = explicit.emitted(d.pairId);
    if (before != null && before[0].equals(d.chosenId)) {
      return;
    }
    Draft pair = d;
    if (before != null) {
      pair = d.revision(ids.pairId(d.pairId, "REVISES", d.chosenId, revisingEventId), before[1]);
    }
    if (emit(out, pair)) {
      explicit.record(d.pairId, d.chosenId, pair.pairId);
    }
  }

  private void ratings(InteractionView view, boolean late, Explicit explicit, Output out) {
    for (Map<String, FeedbackEvent> group : latestRatings(view).values()) {
      List<FeedbackEvent> rated = new ArrayList<>(group.values());
      for (int i = 0; i < rated.size(); i++) {
        for (int j = i + 1; j < rated.size(); j++) {
          ratingPair(view, rated.get(i), rated.get(j), late, explicit, out);
        }
      }
    }
  }

  private void ratingPair(
      InteractionView view,
      FeedbackEvent a,
      FeedbackEvent b,
      boolean late,
      Explicit explicit,
      Output out) {
    Rating ra = (Rating) a.getPayload();
    Rating rb = (Rating) b.getPayload();
    double gap = normalised(ra) - normalised(rb);
    if (gap == 0 || Math.abs(gap) < semantics.ratingMinGap()) {
      return;
    }
    FeedbackEvent hi = gap > 0 ? a : b;
    FeedbackEvent lo = gap > 0 ? b : a;
    Rating rHi = (Rating) hi.getPayload();
    String pairId =
        ids.pairId(
            view.tenant,
            view.interaction,
            "RATING",
            annotatorId(ra.getAnnotator()),
            ra.getCriterion(),
            min(ra.getResponseId(), rb.getResponseId()),
            max(ra.getResponseId(), rb.getResponseId()));
    double size = Math.abs(gap);
    decide(
        explicit,
        new Draft(view.tenant, view.interaction, SourceKind.RATING, pairId)
            .responses(view, rHi.getResponseId(), ((Rating) lo.getPayload()).getResponseId())
            .weighted(semantics.ratingWeight() * confidence(rHi.getAnnotator()) * size, size)
            .from(rHi.getAnnotator(), rHi.getCriterion())
            .event(hi.getEventId(), hi.getOccurredAt().toEpochMilli())
            .event(lo.getEventId(), lo.getOccurredAt().toEpochMilli())
            .late(late),
        later(a, b).getEventId(),
        out);
  }

  private void thumbs(InteractionView view, boolean late, Explicit explicit, Output out) {
    for (Map.Entry<String, Map<String, FeedbackEvent>> group : latestThumbs(view).entrySet()) {
      for (FeedbackEvent up : group.getValue().values()) {
        if (!((Thumb) up.getPayload()).getUp()) {
          continue;
        }
        for (FeedbackEvent down : group.getValue().values()) {
          if (((Thumb) down.getPayload()).getUp()) {
            continue;
          }
          String upId = ((Thumb) up.getPayload()).getResponseId();
          String downId = ((Thumb) down.getPayload()).getResponseId();
          String pairId =
              ids.pairId(
                  view.tenant,
                  view.interaction,
                  "THUMB",
                  group.getKey(),
                  min(upId, downId),
                  max(upId, downId));
          Annotator annotator = ((Thumb) up.getPayload()).getAnnotator();
          decide(
              explicit,
              new Draft(view.tenant, view.interaction, SourceKind.THUMB, pairId)
                  .responses(view, upId, downId)
                  .weighted(semantics.thumbWeight() * confidence(annotator), 0.0)
                  .from(annotator, "overall")
                  .event(up.getEventId(), up.getOccurredAt().toEpochMilli())
                  .event(down.getEventId(), down.getOccurredAt().toEpochMilli())
                  .late(late),
              later(up, down).getEventId(),
              out);
        }
      }
    }
  }

  private void implicit(InteractionView view, boolean late, Explicit emitted, Output out) {
    Map<String, double[]> sums = new HashMap<>();
    Map<String, List<FeedbackEvent>> signals = new HashMap<>();
    for (FeedbackEvent e : view.events) {
      if (e.getPayload() instanceof ImplicitSignal s && view.exposed(s.getResponseId())) {
        sums.computeIfAbsent(s.getResponseId(), r -> new double[KINDS.length])[
                s.getKind().ordinal()] +=
            s.getValue();
        signals.computeIfAbsent(s.getResponseId(), r -> new ArrayList<>()).add(e);
      }
    }
    if (sums.isEmpty()) {
      return;
    }
    // Every exposed response takes part: one that drew no signal has utility 0.
    List<String> responses = view.responseIds();
    double[] utilities = new double[responses.size()];
    for (int i = 0; i < utilities.length; i++) {
      utilities[i] = utility(sums.get(responses.get(i)));
    }
    Set<String> explicit = null;
    for (int i = 0; i < responses.size(); i++) {
      for (int j = i + 1; j < responses.size(); j++) {
        double gap = utilities[i] - utilities[j];
        if (gap == 0 || Math.abs(gap) < semantics.implicitMinGap()) {
          continue;
        }
        String a = responses.get(i);
        String b = responses.get(j);
        String pairId = ids.pairId(view.tenant, view.interaction, "IMPLICIT", a, b);
        String chosen = gap > 0 ? a : b;
        String[] before = emitted.emitted(pairId);
        if (before != null && before[0].equals(chosen)) {
          continue; // stands as emitted
        }
        if (explicit == null) {
          explicit = explicitlyOrdered(view);
        }
        if (explicit.contains(a + "\u0000" + b)) {
          out.dropped(Drop.SUPERSEDED_BY_EXPLICIT);
          continue;
        }
        String rejected = gap > 0 ? b : a;
        Draft d = new Draft(view.tenant, view.interaction, SourceKind.IMPLICIT, pairId);
        FeedbackEvent latest = null;
        for (String r : List.of(chosen, rejected)) {
          for (FeedbackEvent s : signals.getOrDefault(r, List.of())) {
            d.event(s.getEventId(), s.getOccurredAt().toEpochMilli());
            if (latest == null || later(s, latest) == s) {
              latest = s;
            }
          }
        }
        decide(
            emitted,
            d.responses(view, chosen, rejected)
                .weighted(semantics.implicitWeight(), 0.0)
                .from(null, "overall")
                .late(late),
            latest == null ? pairId : latest.getEventId(),
            out);
      }
    }
  }

  /** Implicit utility: the configured weighted sum of a response's signals (null: none). */
  double utility(double[] sums) {
    if (sums == null) {
      return 0.0;
    }
    double u = 0;
    for (ImplicitKind kind : KINDS) {
      double v = sums[kind.ordinal()];
      if (v == 0) {
        continue;
      }
      double contribution =
          switch (kind) {
            case DWELL -> {
              double pivot = semantics.dwellPivot().toMillis() / 1000.0;
              yield Math.max(-1.0, Math.min(1.0, (v - pivot) / pivot));
            }
            case EDIT -> Math.min(v, 1.0);
            default -> Math.min(v, semantics.implicitCountCap());
          };
      u += semantics.implicitWeight(kind) * contribution;
    }
    return u;
  }

  /**
   * Unordered pairs of responses (as "a NUL b" with a before b) that explicit feedback orders or
   * declares tied: implicit signals never override them.
   */
  private static Set<String> explicitlyOrdered(InteractionView view) {
    Set<String> covered = new HashSet<>();
    for (FeedbackEvent e : view.events) {
      for (String[] o : orders(e)) {
        covered.add(unordered(o[0], o[1]));
      }
    }
    for (Map<String, FeedbackEvent> group : latestRatings(view).values()) {
      for (FeedbackEvent a : group.values()) {
        for (FeedbackEvent b : group.values()) {
          if (normalised((Rating) a.getPayload()) != normalised((Rating) b.getPayload())) {
            covered.add(unordered(responseId(a), responseId(b)));
          }
        }
      }
    }
    for (Map<String, FeedbackEvent> group : latestThumbs(view).values()) {
      for (FeedbackEvent a : group.values()) {
        for (FeedbackEvent b : group.values()) {
          if (((Thumb) a.getPayload()).getUp() != ((Thumb) b.getPayload()).getUp()) {
            covered.add(unordered(responseId(a), responseId(b)));
          }
        }
      }
    }
    return covered;
  }

  /** The (chosen, rejected) orders a pairwise choice (also a tie) or a ranking states. */
  private static List<String[]> orders(FeedbackEvent event) {
    Object payload = event.getPayload();
    if (payload instanceof PairwiseChoice c) {
      return List.<String[]>of(new String[] {c.getChosenResponseId(), c.getRejectedResponseId()});
    } else if (payload instanceof Ranking r) {
      List<String> ranked = r.getResponseIds();
      List<String[]> out = new ArrayList<>(ranked.size() * (ranked.size() - 1) / 2);
      for (int i = 0; i < ranked.size(); i++) {
        for (int j = i + 1; j < ranked.size(); j++) {
          out.add(new String[] {ranked.get(i), ranked.get(j)});
        }
      }
      return out;
    }
    return List.of();
  }

  /**
   * Orders of this event that an earlier stated event of the same annotator and criterion states
   * the other way round (ties excluded), as "chosen NUL rejected".
   */
  private static Set<String> contradictions(FeedbackEvent event, InteractionView view) {
    String who = annotatorId(annotator(event));
    String criterion = criterion(event);
    Set<String> earlier = new HashSet<>();
    for (FeedbackEvent e : view.events) {
      if (e == event || e.getEventId().equals(event.getEventId())) {
        break;
      }
      if (e.getPayload() instanceof PairwiseChoice c && c.getTie()) {
        continue;
      }
      if (annotatorId(annotator(e)).equals(who) && criterion(e).equals(criterion)) {
        for (String[] o : orders(e)) {
          earlier.add(o[0] + "\u0000" + o[1]);
        }
      }
    }
    Set<String> contradicted = new HashSet<>();
    if (earlier.isEmpty()) {
      return contradicted;
    }
    for (String[] o : orders(event)) {
      if (earlier.contains(o[1] + "\u0000" + o[0])) {
        contradicted.add(o[0] + "\u0000" + o[1]);
      }
    }
    return contradicted;
  }

  /** Emits the pair, or counts why not; whether it was emitted. */
  private boolean emit(Output out, Draft d) {
    if (d.chosen.equals(d.rejected)) {
      out.dropped(Drop.IDENTICAL_TEXTS);
    } else if (!(d.weight > 0)) {
      out.dropped(Drop.ZERO_WEIGHT);
    } else {
      out.pair(d.build(semantics.holdoutShare()));
      return true;
    }
    return false;
  }

  /** Per (annotator, criterion): each exposed response's latest rating. */
  private static Map<String, Map<String, FeedbackEvent>> latestRatings(InteractionView view) {
    Map<String, Map<String, FeedbackEvent>> groups = new TreeMap<>();
    for (FeedbackEvent e : view.events) {
      if (e.getPayload() instanceof Rating r && view.exposed(r.getResponseId())) {
        groups
            .computeIfAbsent(
                annotatorId(r.getAnnotator()) + "\u0000" + r.getCriterion(), g -> new TreeMap<>())
            .merge(r.getResponseId(), e, PairRules::later);
      }
    }
    return groups;
  }

  /** Per annotator: each exposed response's latest thumb. */
  private static Map<String, Map<String, FeedbackEvent>> latestThumbs(InteractionView view) {
    Map<String, Map<String, FeedbackEvent>> groups = new TreeMap<>();
    for (FeedbackEvent e : view.events) {
      if (e.getPayload() instanceof Thumb t && view.exposed(t.getResponseId())) {
        groups
            .computeIfAbsent(annotatorId(t.getAnnotator()), g -> new TreeMap<>())
            .merge(t.getResponseId(), e, PairRules::later);
      }
    }
    return groups;
  }

  private static String responseId(FeedbackEvent e) {
    return referenced(e).get(0);
  }

  private static FeedbackEvent later(FeedbackEvent kept, FeedbackEvent next) {
    return next.getOccurredAt().isBefore(kept.getOccurredAt()) ? kept : next;
  }

  private static double normalised(Rating r) {
    return (r.getValue() - r.getScaleMin()) / (r.getScaleMax() - r.getScaleMin());
  }

  private static Annotator annotator(FeedbackEvent e) {
    Object payload = e.getPayload();
    if (payload instanceof PairwiseChoice c) {
      return c.getAnnotator();
    } else if (payload instanceof Ranking r) {
      return r.getAnnotator();
    }
    return null;
  }

  private static String criterion(FeedbackEvent e) {
    Object payload = e.getPayload();
    if (payload instanceof PairwiseChoice c) {
      return c.getCriterion();
    } else if (payload instanceof Ranking r) {
      return r.getCriterion();
    }
    return "overall";
  }

  /** Feedback without an annotator comes from the interaction's end user. */
  private static String annotatorId(Annotator a) {
    return a == null ? "" : a.getId();
  }

  private static double confidence(Annotator a) {
    return a == null ? 1.0 : a.getConfidence();
  }

  private static String unordered(String a, String b) {
    return min(a, b) + "\u0000" + max(a, b);
  }

  private static String min(String a, String b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static String max(String a, String b) {
    return a.compareTo(b) <= 0 ? b : a;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a.size() + b.size());
    out.addAll(a);
    out.addAll(b);
    return out;
  }

  /** A pair being assembled. */
  private static final class Draft {
    final String tenant;
    final String interaction;
    final SourceKind source;
    final String pairId;
    String prompt;
    String chosen;
    String rejected;
    String chosenId;
    String rejectedId;
    double weight;
    double margin;
    Annotator annotator;
    String criterion = "overall";

    /** The events that state or imply the pair, then the two exposures. */
    final List<String> eventIds = new ArrayList<>(4);

    final List<String> exposureIds = new ArrayList<>(2);
    long eventTime = Long.MIN_VALUE;
    final List<String> flags = new ArrayList<>(1);
    String revises;

    Draft(String tenant, String interaction, SourceKind source, String pairId) {
      this.tenant = tenant;
      this.interaction = interaction;
      this.source = source;
      this.pairId = pairId;
    }

    /** This pair under {@code id}, flagged as correcting the pair {@code revised}. */
    Draft revision(String id, String revised) {
      Draft d = new Draft(tenant, interaction, source, id);
      d.prompt = prompt;
      d.chosen = chosen;
      d.rejected = rejected;
      d.chosenId = chosenId;
      d.rejectedId = rejectedId;
      d.weight = weight;
      d.margin = margin;
      d.annotator = annotator;
      d.criterion = criterion;
      d.eventIds.addAll(eventIds);
      d.exposureIds.addAll(exposureIds);
      d.eventTime = eventTime;
      d.flags.addAll(flags);
      d.flags.add(REVISES);
      d.revises = revised;
      return d;
    }

    Draft texts(String prompt, String chosen, String rejected) {
      this.prompt = prompt;
      this.chosen = chosen;
      this.rejected = rejected;
      return this;
    }

    /** Texts from the two responses' exposures, which join the pair's provenance. */
    Draft responses(InteractionView view, String chosenId, String rejectedId) {
      Exposure c = view.exposure(chosenId);
      Exposure r = view.exposure(rejectedId);
      this.chosenId = chosenId;
      this.rejectedId = rejectedId;
      texts(c.getPrompt(), c.getResponse(), r.getResponse());
      exposureIds.add(view.exposureEventId(chosenId));
      exposureIds.add(view.exposureEventId(rejectedId));
      eventTime = Math.max(eventTime, view.exposureTime(chosenId));
      eventTime = Math.max(eventTime, view.exposureTime(rejectedId));
      return this;
    }

    Draft weighted(double weight, double margin) {
      this.weight = weight;
      this.margin = margin;
      return this;
    }

    Draft from(Annotator annotator, String criterion) {
      this.annotator = annotator;
      this.criterion = criterion;
      return this;
    }

    Draft event(String eventId, long time) {
      eventIds.add(eventId);
      eventTime = Math.max(eventTime, time);
      return this;
    }

    Draft late(boolean late) {
      if (late) {
        flags.add(LATE);
      }
      return this;
    }

    PreferencePair build(double holdoutShare) {
      return PreferencePair.newBuilder()
          .setPairId(pairId)
          .setTenantId(tenant)
          .setPrompt(prompt)
          .setChosen(chosen)
          .setRejected(rejected)
          .setWeight(weight)
          .setMargin(margin)
          .setSplit(
              PairIds.holdout(tenant, interaction, holdoutShare) ? Split.HOLDOUT : Split.TRAIN)
          .setSource(source)
          .setInteractionId(interaction)
          .setChosenResponseId(chosenId)
          .setRejectedResponseId(rejectedId)
          .setEventIds(concat(eventIds, exposureIds))
          .setAnnotator(annotator)
          .setCriterion(criterion)
          .setEventTime(Instant.ofEpochMilli(eventTime))
          .setFlags(flags)
          .setRevises(revises)
          .build();
    }
  }
}
