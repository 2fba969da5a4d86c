package io.prefstream.monitor;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.DriftReport;
import io.prefstream.avro.RolloutDecision;
import io.prefstream.avro.RolloutState;
import io.prefstream.schemas.JsonForm;
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
      long at, Map<String, Double> events, Map<String, Double> pairs, double deadLetters) {}

  private final MeterRegistry meters;
  private final Deque<Sample> samples = new ArrayDeque<>();
  private Map<String, Double> lastEvents = Map.of();
  private Map<String, Double> lastPairs = Map.of();
  private double lastDeadLetters;
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
    double dead = totals("prefstream.monitor.dead.letters", null).getOrDefault("", 0.0);
    if (lastAt > 0) {
      double seconds = Math.max(1e-3, (now - lastAt) / 1000.0);
      samples.addLast(
          new Sample(
              now,
              rates(events, lastEvents, seconds),
              rates(pairs, lastPairs, seconds),
              Math.max(0, dead - lastDeadLetters) / seconds));
      while (samples.size() > SAMPLES) {
        samples.removeFirst();
      }
    }
    lastEvents = events;
    lastPairs = pairs;
    lastDeadLetters = dead;
    lastAt = now;
  }

  private Map<String, Double> totals(String name, String tag) {
    Map<String, Double> totals = new TreeMap<>();
    for (Counter c : meters.find(name).counters()) {
      String key = tag == null ? "" : c.getId().getTag(tag);
      totals.merge(key == null ? "" : key, c.count(), Double::sum);
    }
    return totals;
  }

  private static Map<String, Double> rates(
      Map<String, Double> now, Map<String, Double> before, double seconds) {
    Map<String, Double> rates = new TreeMap<>();
    now.forEach((k, v) -> rates.put(k, Math.max(0, v - before.getOrDefault(k, 0.0)) / seconds));
    return rates;
  }

  synchronized ObjectNode render(
      List<CheckpointPublished> checkpoints, List<RolloutState> rollouts, List<DriftReport> drift) {
    ObjectNode body = JsonForm.mapper().createObjectNode();
    ArrayNode series = body.putArray("series");
    for (Sample s : samples) {
      ObjectNode o = series.addObject();
      o.put("at", s.at());
      o.putPOJO("events_per_s", s.events());
      o.putPOJO("pairs_per_s", s.pairs());
      o.put("dead_letters_per_s", s.deadLetters());
    }
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
    arms.render(body.putArray("scores"));
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
