package io.prefstream.pairs.internal;

import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.SourceKind;
import io.prefstream.avro.Split;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;

/**
 * The pair builder's Flink metrics, under the operator's group {@code prefstream}: pairs by source
 * and split, events seen, duplicate, late and dropped events, dead letters, dropped would-be pairs
 * by reason, contradictions, and the state held (open interactions, events kept).
 */
public final class PairBuilderMetrics {

  final Counter events;
  final Counter duplicateEvents;
  final Counter lateEvents;
  final Counter lateDroppedEvents;
  final Counter deadLetters;
  final Counter contradictions;
  final Counter revisions;
  final Counter holdoutPairs;
  final Counter expiredInteractions;
  private final Map<SourceKind, Counter> pairs = new EnumMap<>(SourceKind.class);
  private final Map<PairRules.Drop, Counter> dropped = new EnumMap<>(PairRules.Drop.class);

  PairBuilderMetrics(MetricGroup operator, LongSupplier openInteractions, LongSupplier heldEvents) {
    MetricGroup group = operator.addGroup("prefstream");
    events = group.counter("events");
    duplicateEvents = group.counter("duplicateEvents");
    lateEvents = group.counter("lateEvents");
    lateDroppedEvents = group.counter("lateDroppedEvents");
    deadLetters = group.counter("deadLetters");
    contradictions = group.counter("contradictions");
    revisions = group.counter("revisions");
    holdoutPairs = group.counter("holdoutPairs");
    expiredInteractions = group.counter("expiredInteractions");
    MetricGroup bySource = group.addGroup("pairs");
    for (SourceKind source : SourceKind.values()) {
      pairs.put(source, bySource.counter(source.name().toLowerCase(Locale.ROOT)));
    }
    MetricGroup byReason = group.addGroup("droppedPairs");
    for (PairRules.Drop reason : PairRules.Drop.values()) {
      dropped.put(reason, byReason.counter(reason.name().toLowerCase(Locale.ROOT)));
    }
    group.gauge("openInteractions", (Gauge<Long>) openInteractions::getAsLong);
    group.gauge("heldEvents", (Gauge<Long>) heldEvents::getAsLong);
  }

  void pair(PreferencePair pair) {
    pairs.get(pair.getSource()).inc();
    if (pair.getSplit() == Split.HOLDOUT) {
      holdoutPairs.inc();
    }
    if (pair.getFlags().contains(PairRules.CONTRADICTS_SAME_ANNOTATOR)) {
      contradictions.inc();
    }
    if (pair.getFlags().contains(PairRules.REVISES)) {
      revisions.inc();
    }
  }

  /** Explicit derived pairs emitted again the other way round (flag REVISES). */
  public long revisions() {
    return revisions.getCount();
  }

  void dropped(PairRules.Drop reason) {
    dropped.get(reason).inc();
  }

  public long droppedPairs(PairRules.Drop reason) {
    return dropped.get(reason).getCount();
  }

  public long duplicateEvents() {
    return duplicateEvents.getCount();
  }

  public long lateEvents() {
    return lateEvents.getCount();
  }

  public long lateDroppedEvents() {
    return lateDroppedEvents.getCount();
  }

  public long expiredInteractions() {
    return expiredInteractions.getCount();
  }

  public long contradictions() {
    return contradictions.getCount();
  }
}
