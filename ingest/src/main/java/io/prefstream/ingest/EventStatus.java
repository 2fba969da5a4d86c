package io.prefstream.ingest;

import java.util.Locale;

/** What became of one event of a request. */
public enum EventStatus {
  /** Written to prefstream.feedback and acknowledged by the broker. */
  ACCEPTED,
  /** Its event_id was already accepted for this tenant inside the idempotency window. */
  DUPLICATE,
  /** Invalid; not written (its dead letter names the reason). Sending it again will not help. */
  REJECTED,
  /** Valid, but the broker did not acknowledge it in time; send it again (it is idempotent). */
  FAILED;

  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static EventStatus fromCode(String code) {
    return valueOf(code.toUpperCase(Locale.ROOT));
  }

  /** Accepted now or before: the event is in Kafka. */
  public boolean stored() {
    return this == ACCEPTED || this == DUPLICATE;
  }
}
