package io.prefstream.pairs.internal;

import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.schemas.internal.SingleObjectCodec;
import java.nio.ByteBuffer;
import java.time.Instant;

/** Dead letters written by the pair builder: the input as bytes, the reason and the field. */
final class DeadLetters {

  static final String SOURCE = "pair-builder";
  static final int MAX_RAW_BYTES = 64 * 1024;

  private DeadLetters() {}

  static DeadLetter of(
      byte[] raw, String reason, String field, String sourceId, String tenant, Instant now) {
    int keep = Math.min(raw.length, MAX_RAW_BYTES);
    return DeadLetter.newBuilder()
        .setRaw(ByteBuffer.wrap(raw, 0, keep).slice())
        .setRawSize(keep < raw.length ? raw.length : -1)
        .setReason(reason)
        .setField(field)
        .setSource(SOURCE)
        .setSourceId(sourceId)
        .setTenantId(tenant)
        .setTime(now)
        .build();
  }

  /** A decoded event that cannot be used; its bytes are its single-object encoding. */
  static DeadLetter of(
      SingleObjectCodec<FeedbackEvent> codec,
      String topic,
      FeedbackEvent event,
      String reason,
      String field,
      Instant now) {
    return of(
        codec.encode(event, topic),
        reason,
        field,
        event.getTenantId() + "/" + event.getEventId(),
        event.getTenantId(),
        now);
  }
}
