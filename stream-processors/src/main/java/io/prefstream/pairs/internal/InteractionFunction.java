package io.prefstream.pairs.internal;

import static io.prefstream.pairs.internal.InteractionState.contains;
import static io.prefstream.pairs.internal.InteractionState.with;

import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.Exposure;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.ImplicitSignal;
import io.prefstream.avro.LabeledPair;
import io.prefstream.avro.PairwiseChoice;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.Rating;
import io.prefstream.avro.Thumb;
import io.prefstream.pairs.PairSemantics;
import io.prefstream.schemas.internal.SingleObjectCodec;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Turns one interaction's events (keyed by tenant/interaction) into pairs. Events wait in keyed
 * state with their exposures; stated pairs leave as soon as their responses are exposed, explicit
 * derived pairs (ratings, thumbs) as soon as both responses' feedback and exposures are there (a
 * later rating or thumb that reverses one emits the corrected pair, flagged REVISES), implicit
 * pairs when the watermark passes the last event plus the session gap. The state stays for the
 * allowed lateness, so that late events add only the pairs they newly imply, then is cleared with
 * its timer; whatever never found its exposure goes to the dead-letter output.
 */
public final class InteractionFunction
    extends KeyedProcessFunction<String, FeedbackEvent, PreferencePair>
    implements CheckpointedFunction {

  private static final long serialVersionUID = 1L;

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("dead-letters", new AvroTypeInfo<>(DeadLetter.class));

  private final PairSemantics semantics;
  private final String feedbackTopic;
  private final long gap;
  private final long lateness;

  private transient ValueState<InteractionState> state;
  private transient PairRules rules;
  private transient SingleObjectCodec<FeedbackEvent> codec;
  private transient PairBuilderMetrics metrics;
  private transient long openInteractions;
  private transient long heldEvents;
  private transient ListState<Long> openInteractionsState;
  private transient ListState<Long> heldEventsState;

  /**
   * @param semantics event-time bounds and rules
   * @param feedbackTopic the topic events came from (names it in dead letters' encodings)
   */
  public InteractionFunction(PairSemantics semantics, String feedbackTopic) {
    this.semantics = semantics;
    this.feedbackTopic = feedbackTopic;
    this.gap = semantics.sessionGap().toMillis();
    this.lateness = semantics.allowedLateness().toMillis();
  }

  @Override
  public void open(OpenContext context) {
    // No Flink state TTL: its per-access bookkeeping cost half this operator's time. The TTL is a
    // processing-time timer per interaction instead, which also dead-letters what it drops.
    state =
        getRuntimeContext()
            .getState(
                new ValueStateDescriptor<>(
                    "interaction", TypeInformation.of(InteractionState.class)));
    rules = new PairRules(semantics);
    codec = new SingleObjectCodec<>(FeedbackEvent.class);
    metrics =
        new PairBuilderMetrics(
            getRuntimeContext().getMetricGroup(), () -> openInteractions, () -> heldEvents);
  }

  /** This subtask's metrics (for tests; the same figures are Flink metrics). */
  public PairBuilderMetrics metrics() {
    return metrics;
  }

  @Override
  public void processElement(FeedbackEvent event, Context ctx, Collector<PreferencePair> out)
      throws Exception {
    metrics.events.inc();
    long watermark = ctx.timerService().currentWatermark();
    long time = event.getOccurredAt().toEpochMilli();
    InteractionState s = state.value();
    if (s == null) {
      if (watermark != Long.MIN_VALUE && time + gap + lateness <= watermark) {
        metrics.lateDroppedEvents.inc();
        deadLetter(
            ctx,
            event,
            "late: occurred_at "
                + event.getOccurredAt()
                + " is beyond the allowed lateness; the interaction closed (watermark "
                + Instant.ofEpochMilli(watermark)
                + ", session gap "
                + semantics.sessionGap()
                + ", allowed lateness "
                + semantics.allowedLateness()
                + ")",
            "occurred_at");
        return;
      }
      s = new InteractionState();
      s.expiry = ctx.timerService().currentProcessingTime() + semantics.stateTtl().toMillis();
      ctx.timerService().registerProcessingTimeTimer(s.expiry);
      openInteractions++;
    }
    long eventKey = PairIds.key(event.getEventId());
    if (contains(s.seen, eventKey)) {
      metrics.duplicateEvents.inc();
      return;
    }
    Object payload = event.getPayload();
    if (s.log.length >= semantics.maxEventsPerInteraction() && !(payload instanceof LabeledPair)) {
      deadLetter(
          ctx,
          event,
          "interaction holds "
              + s.log.length
              + " events, the most pairs.max-events-per-interaction allows",
          "interaction_id");
      return;
    }
    s.seen = with(s.seen, eventKey);
    long sessionGap = gap(s, payload);
    boolean late = s.finalized && time < s.lastEventTime + sessionGap;
    if (late) {
      metrics.lateEvents.inc();
    } else if (s.finalized) {
      // A new session of a final interaction: derived pairs are decided again when it ends.
      s.finalized = false;
      s.lastEventTime = time;
      timer(ctx, s, time + sessionGap);
    } else {
      s.lastEventTime = Math.max(s.lastEventTime, time);
      // The session-end timer is moved lazily: when it fires early it is set again (see onTimer),
      // which costs a timer operation per session extension seen, not two per event. A signal of
      // a kind with a shorter gap can bring it forward.
      if (s.timer == Long.MIN_VALUE || s.lastEventTime + sessionGap < s.timer) {
        timer(ctx, s, s.lastEventTime + sessionGap);
      }
    }
    Output output = new Output(out);
    if (payload instanceof LabeledPair) {
      rules.labeled(event, late, output);
      state.update(s);
      return;
    }
    if (payload instanceof Exposure x && !exposable(ctx, event, x, events(s))) {
      state.update(s);
      return;
    }
    s.log = InteractionState.with(s.log, event);
    heldEvents++;
    boolean stated = PairRules.states(event);
    boolean explicit =
        payload instanceof Rating
            || payload instanceof Thumb
            || (payload instanceof Exposure && hasExplicit(s));
    if (!stated && !explicit && !s.finalized && !(payload instanceof Exposure && s.waiting > 0)) {
      // An implicit signal of an open interaction only waits for the session end, and an
      // exposure that no feedback waits for only joins the log.
      state.update(s);
      return;
    }
    InteractionView view =
        new InteractionView(event.getTenantId(), event.getInteractionId(), events(s));
    if (stated) {
      if (rules.stated(event, view, late, output)) {
        s.decided = with(s.decided, eventKey);
      } else {
        s.waiting++;
      }
    } else {
      if (payload instanceof Exposure && s.waiting > 0) {
        resolveWaiting(s, view, late, output);
      }
      if (s.finalized) {
        rules.derived(view, late, explicit(s), output);
      } else if (explicit) {
        rules.explicit(view, late, explicit(s), output);
      }
    }
    state.update(s);
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<PreferencePair> out)
      throws Exception {
    InteractionState s = state.value();
    if (s == null) {
      return;
    }
    if (ctx.timeDomain() == TimeDomain.PROCESSING_TIME) {
      if (timestamp == s.expiry) {
        expire(s, ctx, out);
      }
      return;
    }
    if (timestamp != s.timer) {
      return;
    }
    s.timer = Long.MIN_VALUE;
    long sessionGap = gap(s, null);
    if (!s.finalized && timestamp < s.lastEventTime + sessionGap) {
      // Events extended the session since this timer was set.
      timer(ctx, s, s.lastEventTime + sessionGap);
      state.update(s);
      return;
    }
    if (!s.finalized) {
      s.finalized = true;
      decideDerived(s, ctx, out);
      timer(ctx, s, s.lastEventTime + gap + lateness);
      state.update(s);
      return;
    }
    close(
        s,
        ctx,
        "before the interaction closed (session gap "
            + semantics.sessionGap()
            + " plus allowed lateness "
            + semantics.allowedLateness()
            + ")");
  }

  /**
   * The state TTL: an interaction still open this long after it began (its watermark never came) is
   * decided as it stands and closed.
   */
  private void expire(InteractionState s, OnTimerContext ctx, Collector<PreferencePair> out)
      throws Exception {
    metrics.expiredInteractions.inc();
    if (!s.finalized) {
      decideDerived(s, ctx, out);
    }
    if (s.timer != Long.MIN_VALUE) {
      ctx.timerService().deleteEventTimeTimer(s.timer);
    }
    s.expiry = Long.MIN_VALUE;
    close(s, ctx, "before the interaction expired (pairs.state-ttl " + semantics.stateTtl() + ")");
  }

  /** The pairs from ratings, thumbs and implicit signals, when the interaction is final. */
  private void decideDerived(
      InteractionState s, OnTimerContext ctx, Collector<PreferencePair> out) {
    String[] key = splitKey(ctx.getCurrentKey());
    rules.derived(
        new InteractionView(key[0], key[1], events(s)), false, explicit(s), new Output(out));
  }

  /** Dead-letters what never found its exposure, then clears the interaction's state and timers. */
  private void close(InteractionState s, OnTimerContext ctx, String when) throws Exception {
    if (s.expiry != Long.MIN_VALUE) {
      ctx.timerService().deleteProcessingTimeTimer(s.expiry);
    }
    List<FeedbackEvent> events = events(s);
    InteractionView view = new InteractionView("", "", events);
    for (FeedbackEvent e : events) {
      String missing = firstUnexposed(e, view);
      if (missing != null
          && !(PairRules.states(e) && contains(s.decided, PairIds.key(e.getEventId())))) {
        deadLetter(
            ctx,
            e,
            "response '"
                + missing
                + "' of interaction '"
                + e.getInteractionId()
                + "' was never exposed "
                + when,
            responseField(e));
      }
    }
    heldEvents -= s.log.length;
    openInteractions--;
    state.clear();
  }

  /** Stated events that waited for an exposure and can now be decided. */
  private void resolveWaiting(InteractionState s, InteractionView view, boolean late, Output out) {
    for (FeedbackEvent e : view.events) {
      if (!PairRules.states(e)) {
        continue;
      }
      long key = PairIds.key(e.getEventId());
      if (!contains(s.decided, key) && rules.stated(e, view, late, out)) {
        s.decided = with(s.decided, key);
        s.waiting--;
      }
    }
  }

  /**
   * An exposure joins the interaction unless its response is already exposed (a copy adds nothing;
   * another text is a conflict) or its prompt is not the interaction's.
   */
  private boolean exposable(
      Context ctx, FeedbackEvent event, Exposure x, List<FeedbackEvent> events) {
    for (FeedbackEvent e : events) {
      if (!(e.getPayload() instanceof Exposure earlier)) {
        continue;
      }
      if (!earlier.getPrompt().equals(x.getPrompt())) {
        deadLetter(
            ctx,
            event,
            "exposure.prompt differs from the prompt of the interaction's first exposure (event '"
                + e.getEventId()
                + "'); one interaction is one prompt",
            "exposure.prompt");
        return false;
      }
      if (earlier.getResponseId().equals(x.getResponseId())) {
        if (earlier.getResponse().equals(x.getResponse())) {
          metrics.duplicateEvents.inc();
        } else {
          deadLetter(
              ctx,
              event,
              "response '"
                  + x.getResponseId()
                  + "' was already exposed with another text (event '"
                  + e.getEventId()
                  + "')",
              "exposure.response");
        }
        return false;
      }
    }
    return true;
  }

  /**
   * The session gap of the interaction with {@code next} (an event not logged yet, or null): the
   * longest of the gaps of its implicit signals' kinds ({@code pairs.session-gap.KIND}, each at
   * most the session gap), or the session gap when it holds none.
   */
  private long gap(InteractionState s, Object next) {
    long longest = -1;
    for (FeedbackEvent e : s.log) {
      if (e.getPayload() instanceof ImplicitSignal signal) {
        longest = Math.max(longest, semantics.implicitGap(signal.getKind()).toMillis());
      }
    }
    if (next instanceof ImplicitSignal signal) {
      longest = Math.max(longest, semantics.implicitGap(signal.getKind()).toMillis());
    }
    return longest < 0 ? gap : longest;
  }

  /** Whether the interaction holds a rating or thumb (which an exposure may complete). */
  private static boolean hasExplicit(InteractionState s) {
    for (FeedbackEvent e : s.log) {
      if (e.getPayload() instanceof Rating || e.getPayload() instanceof Thumb) {
        return true;
      }
    }
    return false;
  }

  /** The derived pairs (explicit and implicit) the interaction has emitted, kept in its state. */
  private static PairRules.Explicit explicit(InteractionState s) {
    return new PairRules.Explicit() {
      @Override
      public String[] emitted(String key) {
        String prefix = key + "\u0000";
        for (String e : s.explicit) {
          if (e.startsWith(prefix)) {
            String[] parts = e.split("\u0000", -1);
            return new String[] {parts[1], parts[2]};
          }
        }
        return null;
      }

      @Override
      public void record(String key, String chosenResponseId, String pairId) {
        String entry = key + "\u0000" + chosenResponseId + "\u0000" + pairId;
        String prefix = key + "\u0000";
        for (int i = 0; i < s.explicit.length; i++) {
          if (s.explicit[i].startsWith(prefix)) {
            s.explicit = s.explicit.clone();
            s.explicit[i] = entry;
            return;
          }
        }
        s.explicit = InteractionState.with(s.explicit, entry);
      }
    };
  }

  /** Keeps exactly one event-time timer per key. */
  private static void timer(Context ctx, InteractionState s, long time) {
    if (s.timer == time) {
      return;
    }
    if (s.timer != Long.MIN_VALUE) {
      ctx.timerService().deleteEventTimeTimer(s.timer);
    }
    ctx.timerService().registerEventTimeTimer(time);
    s.timer = time;
  }

  /** The interaction's stored events, read-only, without a copy. */
  private static List<FeedbackEvent> events(InteractionState s) {
    return Arrays.asList(s.log);
  }

  private static String firstUnexposed(FeedbackEvent e, InteractionView view) {
    for (String id : PairRules.referenced(e)) {
      if (!view.exposed(id)) {
        return id;
      }
    }
    return null;
  }

  private static String responseField(FeedbackEvent e) {
    Object payload = e.getPayload();
    if (payload instanceof Rating) {
      return "rating.response_id";
    } else if (payload instanceof Thumb) {
      return "thumb.response_id";
    } else if (payload instanceof ImplicitSignal) {
      return "implicit_signal.response_id";
    } else if (payload instanceof PairwiseChoice) {
      return "pairwise_choice";
    }
    return "ranking.response_ids";
  }

  /** Keys are tenant/interaction; a tenant id never holds '/', an interaction id may. */
  private static String[] splitKey(String key) {
    int slash = key.indexOf('/');
    return new String[] {key.substring(0, slash), key.substring(slash + 1)};
  }

  private void deadLetter(Context ctx, FeedbackEvent event, String reason, String field) {
    metrics.deadLetters.inc();
    ctx.output(
        DEAD_LETTERS, DeadLetters.of(codec, feedbackTopic, event, reason, field, Instant.now()));
  }

  @Override
  public void snapshotState(FunctionSnapshotContext context) throws Exception {
    openInteractionsState.update(List.of(openInteractions));
    heldEventsState.update(List.of(heldEvents));
  }

  @Override
  public void initializeState(FunctionInitializationContext context) throws Exception {
    openInteractionsState =
        context
            .getOperatorStateStore()
            .getListState(new ListStateDescriptor<>("open-interactions", Types.LONG));
    heldEventsState =
        context
            .getOperatorStateStore()
            .getListState(new ListStateDescriptor<>("held-events", Types.LONG));
    openInteractions = 0;
    heldEvents = 0;
    for (Long n : openInteractionsState.get()) {
      openInteractions += n;
    }
    for (Long n : heldEventsState.get()) {
      heldEvents += n;
    }
  }

  /** Sends the rules' pairs downstream and counts every decision. */
  private final class Output implements PairRules.Output {
    private final Collector<PreferencePair> out;

    Output(Collector<PreferencePair> out) {
      this.out = out;
    }

    @Override
    public void pair(PreferencePair pair) {
      metrics.pair(pair);
      out.collect(pair);
    }

    @Override
    public void dropped(PairRules.Drop reason) {
      metrics.dropped(reason);
    }
  }
}
