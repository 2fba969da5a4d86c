package io.prefstream.monitor;

import io.prefstream.avro.Histogram;
import io.prefstream.avro.ScoreRecord;
import io.prefstream.schemas.Topics;
import java.nio.ByteBuffer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/** A served score with its checkpoint's reference histogram (null when not announced). */
record Scored(ScoreRecord score, Histogram reference) {

  private static final Topics TOPICS = Topics.defaults();

  /** The score record's Avro encoding, then the histogram's edges and counts. */
  static final Serde<Scored> SERDE =
      Serdes.serdeFrom(
          (Serializer<Scored>) (topic, v) -> v == null ? null : encode(v),
          (Deserializer<Scored>) (topic, bytes) -> bytes == null ? null : decode(bytes));

  private static byte[] encode(Scored v) {
    byte[] score = TOPICS.scores().valueSerde().serialize("", v.score());
    int bins = v.reference() == null ? -1 : v.reference().getCounts().size();
    ByteBuffer b = ByteBuffer.allocate(8 + score.length + (bins < 0 ? 0 : 8 * (2 * bins + 1)));
    b.putInt(score.length).put(score).putInt(bins);
    if (bins >= 0) {
      v.reference().getEdges().forEach(b::putDouble);
      v.reference().getCounts().forEach(b::putLong);
    }
    return b.array();
  }

  private static Scored decode(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    byte[] score = new byte[b.getInt()];
    b.get(score);
    int bins = b.getInt();
    Histogram h = null;
    if (bins >= 0) {
      java.util.List<Double> edges = new java.util.ArrayList<>();
      for (int i = 0; i <= bins; i++) {
        edges.add(b.getDouble());
      }
      java.util.List<Long> counts = new java.util.ArrayList<>();
      for (int i = 0; i < bins; i++) {
        counts.add(b.getLong());
      }
      h = new Histogram(edges, counts);
    }
    return new Scored(TOPICS.scores().valueSerde().deserialize("", score), h);
  }
}
