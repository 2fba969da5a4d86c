package io.prefstream.monitor;

import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.schemas.Topics;
import java.util.Arrays;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/** A tenant's feedback event or dead letter, counted in the same window. */
record Signal(FeedbackEvent event, DeadLetter letter) {

  private static final Topics TOPICS = Topics.defaults();

  /** A tag byte (0 event, 1 dead letter), then the record's Avro single-object encoding. */
  static final Serde<Signal> SERDE =
      Serdes.serdeFrom(
          (Serializer<Signal>) (topic, v) -> v == null ? null : encode(v),
          (Deserializer<Signal>) (topic, b) -> b == null ? null : decode(b));

  private static byte[] encode(Signal v) {
    byte[] body =
        v.event() != null
            ? TOPICS.feedback().valueSerde().serialize("", v.event())
            : TOPICS.feedbackDlq().valueSerde().serialize("", v.letter());
    byte[] out = new byte[body.length + 1];
    out[0] = (byte) (v.event() != null ? 0 : 1);
    System.arraycopy(body, 0, out, 1, body.length);
    return out;
  }

  private static Signal decode(byte[] bytes) {
    byte[] body = Arrays.copyOfRange(bytes, 1, bytes.length);
    return bytes[0] == 0
        ? new Signal(TOPICS.feedback().valueSerde().deserialize("", body), null)
        : new Signal(null, TOPICS.feedbackDlq().valueSerde().deserialize("", body));
  }
}
