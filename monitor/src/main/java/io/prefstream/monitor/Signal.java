package io.prefstream.monitor;

import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.schemas.Topics;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A tenant's feedback event or dead letter, counted in the same window, with what the data-quality
 * checks found about it.
 *
 * @param flags {@link #LATE}, {@link #DUPLICATE_ID}, {@link #DUPLICATE_CONTENT}
 * @param agreements pairs of annotators whose labels of the same item this event's label agrees
 *     with
 * @param disagreements pairs of annotators whose labels it contradicts
 */
record Signal(
    FeedbackEvent event, DeadLetter letter, int flags, int agreements, int disagreements) {

  /** Behind the newest event time of its partition by more than the allowed delay. */
  static final int LATE = 1;

  /** Its event id was seen before. */
  static final int DUPLICATE_ID = 2;

  /** A new event id, but the same explicit label by the same person as one seen before. */
  static final int DUPLICATE_CONTENT = 4;

  Signal(FeedbackEvent event, DeadLetter letter) {
    this(event, letter, 0, 0, 0);
  }

  Signal with(int flag) {
    return new Signal(event, letter, flags | flag, agreements, disagreements);
  }

  Signal withAgreement(int agree, int disagree) {
    return new Signal(event, letter, flags, agreements + agree, disagreements + disagree);
  }

  boolean is(int flag) {
    return (flags & flag) != 0;
  }

  String tenant() {
    return event != null ? event.getTenantId() : letter.getTenantId();
  }

  private static final Topics TOPICS = Topics.defaults();
  private static final int HEADER = 1 + 3 * Integer.BYTES;

  /**
   * A tag byte (0 event, 1 dead letter), flags, agreements and disagreements, then the record's
   * Avro single-object encoding.
   */
  static final Serde<Signal> SERDE =
      Serdes.serdeFrom(
          (Serializer<Signal>) (topic, v) -> v == null ? null : encode(v),
          (Deserializer<Signal>) (topic, b) -> b == null ? null : decode(b));

  private static byte[] encode(Signal v) {
    byte[] body =
        v.event() != null
            ? TOPICS.feedback().valueSerde().serialize("", v.event())
            : TOPICS.feedbackDlq().valueSerde().serialize("", v.letter());
    return ByteBuffer.allocate(HEADER + body.length)
        .put((byte) (v.event() != null ? 0 : 1))
        .putInt(v.flags())
        .putInt(v.agreements())
        .putInt(v.disagreements())
        .put(body)
        .array();
  }

  private static Signal decode(byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    byte tag = in.get();
    int flags = in.getInt();
    int agreements = in.getInt();
    int disagreements = in.getInt();
    byte[] body = Arrays.copyOfRange(bytes, HEADER, bytes.length);
    return tag == 0
        ? new Signal(
            TOPICS.feedback().valueSerde().deserialize("", body),
            null,
            flags,
            agreements,
            disagreements)
        : new Signal(
            null,
            TOPICS.feedbackDlq().valueSerde().deserialize("", body),
            flags,
            agreements,
            disagreements);
  }
}
