package io.prefstream.monitor;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.DriftReport;
import io.prefstream.avro.RolloutDecision;
import io.prefstream.avro.RolloutState;
import io.prefstream.http.Caller;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.lag.PairLag;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the dashboard page shows, as one JSON document: rates sampled from the monitor's counters
 * (events by kind, dead letters, pairs by source), the checkpoint timeline with its figures, the
 * rollout decisions with their reasons, the latest served scores by arm, every drift figure against
 * its thresholds, and the open alerts. Sampled every few seconds; the last {@link #SAMPLES} samples
 * are kept.
 */
final class Dashboard {

  static final int SAMPLES = 300;
  private static final JsonForm<DriftReport> DRIFT = JsonForm.of(DriftReport.class);

  private record Sample(
      long at,
      Map<String, Double> events,
      Map<String, Double> pairs,
      Map<String, Double> deadLetters) {}

  private final MeterRegistry meters;
  private final Deque<Sample> samples = new ArrayDeque<>();
  private Map<String, Double> lastEvents = Map.of();
  private Map<String, Double> lastPairs = Map.of();
  private Map<String, Double> lastDeadLetters = Map.of();
  private long lastAt;

  private final ScoreArms arms;

  Dashboard(MeterRegistry meters, ScoreArms arms) {
    this.meters = meters;
    this.arms = arms;
  }

  /** Takes a sample of the counters: rates per second since the previous sample. */
  synchronized void sample(long now) {
    Map<String, Double> events = totals("prefstream.monitor.events", "kind");
    Map<String, Double> pairs = totals("prefstream.monitor.pairs", "source");
    Map<String, Double> dead = totals("prefstream.monitor.dead.letters", null);
    if (lastAt > 0) {
      double seconds = Math.max(1e-3, (now - lastAt) / 1000.0);
      samples.addLast(
          new Sample(
              now,
              rates(events, lastEvents, seconds),
              rates(pairs, lastPairs, seconds),
              rates(dead, lastDeadLetters, seconds)));
      while (samples.size() > SAMPLES) {
        samples.removeFirst();
      }
    }
    lastEvents = events;
    lastPairs = pairs;
    lastDeadLetters = dead;
    lastAt = now;
  }

  /** Counter totals by {@code TENANT<TAB>TAG-VALUE}, so that a reader sees only its tenants. */
  private Map<String, Double> totals(String name, String tag) {
    Map<String, Double> totals = new TreeMap<>();
    for (Counter c : meters.find(name).counters()) {
      String tenant = c.getId().getTag("tenant");
      String value = tag == null ? "" : c.getId().getTag(tag);
      totals.merge(
          (tenant == null ? "" : tenant) + '\t' + (value == null ? "" : value),
          c.count(),
          Double::sum);
    }
    return totals;
  }

  private static Map<String, Double> rates(
      Map<String, Double> now, Map<String, Double> before, double seconds) {
    Map<String, Double> rates = new TreeMap<>();
    now.forEach((k, v) -> rates.put(k, Math.max(0, v - before.getOrDefault(k, 0.0)) / seconds));
    return rates;
  }

  /** The rates of the tenants {@code caller} sees, summed by tag value. */
  private static Map<String, Double> seen(Map<String, Double> rates, Caller caller) {
    Map<String, Double> seen = new TreeMap<>();
    rates.forEach(
        (k, v) -> {
          int tab = k.indexOf('\t');
          if (caller.sees(k.substring(0, tab))) {
            seen.merge(k.substring(tab + 1), v, Double::sum);
          }
        });
    return seen;
  }

  /**
   * The page's document as {@code caller} may see it: only its tenant's rates, checkpoints,
   * rollouts, scores and figures (every tenant's, and dead letters of no tenant, for an operator).
   */
  synchronized ObjectNode render(
      Caller caller,
      List<CheckpointPublished> checkpoints,
      List<RolloutState> rollouts,
      List<DriftReport> drift,
      Map<String, PairLag.Lag> lags) {
    ObjectNode body = JsonForm.mapper().createObjectNode();
    body.put("viewer", caller.operator() ? "operator" : caller.tenant());
    ArrayNode series = body.putArray("series");
    for (Sample s : samples) {
      ObjectNode o = series.addObject();
      o.put("at", s.at());
      o.putPOJO("events_per_s", seen(s.events(), caller));
      o.putPOJO("pairs_per_s", seen(s.pairs(), caller));
      o.put(
          "dead_letters_per_s",
          seen(s.deadLetters(), caller).values().stream().mapToDouble(Double::doubleValue).sum());
    }
    // Pairs since start by source, and those that revised an earlier explicit pair.
    body.putPOJO("pairs_total", seen(totals("prefstream.monitor.pairs", "source"), caller));
    body.putPOJO(
        "pair_revisions", seen(totals("prefstream.monitor.pair.revisions", "source"), caller));
    checkpoints = checkpoints.stream().filter(c -> caller.sees(c.getTenantId())).toList();
    rollouts = rollouts.stream().filter(r -> caller.sees(r.getTenantId())).toList();
    drift = drift.stream().filter(d -> caller.sees(d.getTenantId())).toList();
    List<CheckpointPublished> sorted = new ArrayList<>(checkpoints);
    sorted.sort(Comparator.comparing(CheckpointPublished::getPublishedAt));
    ArrayNode cps = body.putArray("checkpoints");
    for (CheckpointPublished c : sorted) {
      ObjectNode o = cps.addObject();
      o.put("tenant", c.getTenantId());
      o.put("model", c.getModel());
      o.put("version", c.getVersion());
      o.put("published_at", c.getPublishedAt().toString());
      o.put("pairs_seen", c.getPairsSeen());
      o.putPOJO("metrics", new TreeMap<>(c.getMetrics()));
    }
    ArrayNode decisions = body.putArray("decisions");
    ArrayNode models = body.putArray("models");
    for (RolloutState r : rollouts) {
      ObjectNode m = models.addObject();
      m.put("tenant", r.getTenantId());
      m.put("model", r.getModel());
      m.put("champion", r.getChampionVersion());
      m.put("candidate", r.getCandidateVersion());
      m.put("phase", r.getPhase().name());
      m.put("candidate_weight", r.getCandidateWeight());
      // How far each arm's training lies behind the pairs topic (absent until it is known).
      ObjectNode lag = m.putObject("lag");
      for (String arm : new String[] {"champion", "candidate"}) {
        Long v = arm.equals("champion") ? r.getChampionVersion() : r.getCandidateVersion();
        PairLag.Lag l = v == null ? null : lags.get(r.getTenantId() + "/" + r.getModel() + "/" + v);
        if (l != null) {
          ObjectNode a = lag.putObject(arm);
          a.put("pairs", l.pairs());
          a.put("seconds", l.seconds());
        }
      }
      for (RolloutDecision d : r.getHistory()) {
        ObjectNode o = decisions.addObject();
        o.put("tenant", r.getTenantId());
        o.put("model", r.getModel());
        o.put("at", d.getAt().toString());
        o.put("action", d.getAction().name());
        o.put("version", d.getVersion());
        o.put("weight", d.getWeight());
        o.put("actor", d.getActor());
        o.put("reason", d.getReason());
      }
    }
    arms.render(body.putArray("scores"), caller);
    ArrayNode figures = body.putArray("drift");
    ArrayNode alerts = body.putArray("alerts");
    for (DriftReport d : drift) {
      figures.add(DRIFT.toJson(d));
      if (d.getLevel() != io.prefstream.avro.AlertLevel.OK) {
        alerts.add(DRIFT.toJson(d));
      }
    }
    return body;
  }
}
