package io.prefstream.pairs.internal;

import io.prefstream.avro.FeedbackEvent;
import java.util.Arrays;

/**
 * One open interaction in keyed state: its events and its bookkeeping, one state entry per key (one
 * lookup to read, one to write). A Flink POJO whose fields are primitives, primitive arrays and an
 * array of Avro records, so that Flink serializes it without Kryo.
 */
public final class InteractionState {

  /** Latest event time of the interaction's current session. */
  public long lastEventTime = Long.MIN_VALUE;

  /** The one event-time timer registered for the key (session end, or cleanup once final). */
  public long timer = Long.MIN_VALUE;

  /** Processing time at which the interaction is closed whatever its watermark (state TTL). */
  public long expiry = Long.MIN_VALUE;

  /** True once the watermark passed the session's end and derived pairs were emitted. */
  public boolean finalized;

  /** The events kept (exposures, waiting and deciding feedback), in arrival order. */
  public FeedbackEvent[] log = new FeedbackEvent[0];

  /** Stated events (choices, rankings) waiting for an exposure. */
  public int waiting;

  /** Keys of every event id seen (de-duplication). */
  public long[] seen = new long[0];

  /** Keys of stated events already decided (pairs emitted, or dropped). */
  public long[] decided = new long[0];

  /**
   * Derived pairs emitted: per unordered pair of responses (of one annotator and criterion for
   * ratings and thumbs, of the implicit signals), "pair id NUL chosen response id NUL id of the
   * pair last emitted for it".
   */
  public String[] explicit = new String[0];

  public InteractionState() {}

  static boolean contains(long[] set, long key) {
    for (long k : set) {
      if (k == key) {
        return true;
      }
    }
    return false;
  }

  static FeedbackEvent[] with(FeedbackEvent[] log, FeedbackEvent event) {
    FeedbackEvent[] out = Arrays.copyOf(log, log.length + 1);
    out[log.length] = event;
    return out;
  }

  static String[] with(String[] list, String entry) {
    String[] out = Arrays.copyOf(list, list.length + 1);
    out[list.length] = entry;
    return out;
  }

  static long[] with(long[] set, long key) {
    long[] out = Arrays.copyOf(set, set.length + 1);
    out[set.length] = key;
    return out;
  }
}
