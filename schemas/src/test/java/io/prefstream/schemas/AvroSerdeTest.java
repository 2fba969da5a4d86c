package io.prefstream.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.avro.Exposure;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.Rating;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {

  private final AvroSerde<FeedbackEvent> events = new AvroSerde<>(FeedbackEvent.class);

  @Test
  void roundTripsEveryRecordInBinary() {
    for (SpecificRecord record : RecordSamples.all()) {
      byte[] bytes = roundTripSerde(record).serialize("t", record);
      assertThat(bytes[0]).isEqualTo((byte) 0xC3);
      assertThat(bytes[1]).isEqualTo((byte) 0x01);
      assertThat(roundTripSerde(record).deserialize("t", bytes)).isEqualTo(record);
    }
  }

  @Test
  void writesTheSchemaFingerprintAfterTheMarker() {
    FeedbackEvent event = Examples.oneOfEachPayload("demo", "i-1", RecordSamples.T0).get(0);
    byte[] bytes = events.serialize("t", event);
    long written = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(written)
        .isEqualTo(SchemaNormalization.parsingFingerprint64(FeedbackEvent.getClassSchema()));
  }

  @Test
  void readsDataWrittenWithAnOlderWriterSchema() throws Exception {
    Schema old;
    try (InputStream in = getClass().getResourceAsStream("/FeedbackEvent-old-writer.avsc")) {
      old = new Schema.Parser().parse(in);
    }
    Schema oldExposure = old.getField("payload").schema().getTypes().get(0);
    GenericRecord payload =
        new GenericRecordBuilder(oldExposure)
            .set("response_id", "r-1")
            .set("prompt", "hi")
            .set("response", "hello")
            .build();
    GenericRecord record =
        new GenericRecordBuilder(old)
            .set("event_id", "e-1")
            .set("tenant_id", "demo")
            .set("occurred_at", RecordSamples.T0.toEpochMilli())
            .set("interaction_id", "i-1")
            .set("payload", payload)
            .build();
    byte[] bytes =
        new BinaryMessageEncoder<GenericRecord>(GenericData.get(), old).encode(record).array();
    events.codec().addWriterSchema(old, "old");

    FeedbackEvent read = events.deserialize("prefstream.feedback", bytes);

    assertThat(read.getEventId()).isEqualTo("e-1");
    assertThat(read.getOccurredAt()).isEqualTo(RecordSamples.T0);
    assertThat(read.getApp()).as("field added since, read as its default").isNull();
    Exposure exposure = (Exposure) read.getPayload();
    assertThat(exposure.getResponse()).isEqualTo("hello");
    assertThat(exposure.getPosition()).as("field added since").isZero();
  }

  @Test
  void refusesAnUnknownFingerprintNamingTopicAndFingerprint() {
    byte[] bytes =
        events.serialize("t", Examples.oneOfEachPayload("d", "i", RecordSamples.T0).get(1));
    Arrays.fill(bytes, 2, 10, (byte) 0x11);

    assertThatThrownBy(() -> events.deserialize("prefstream.feedback", bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("'prefstream.feedback'")
        .hasMessageContaining("unknown schema fingerprint 1111111111111111")
        .hasMessageContaining("FeedbackEvent v1");
  }

  @Test
  void refusesARecordOfAnotherType() {
    AvroSerde<PreferencePair> pairs = new AvroSerde<>(PreferencePair.class);
    byte[] bytes = pairs.serialize("t", RecordSamples.pair());

    assertThatThrownBy(() -> events.deserialize("prefstream.feedback", bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("unknown schema fingerprint");
  }

  @Test
  void refusesCorruptBodies() {
    byte[] bytes =
        events.serialize("t", Examples.oneOfEachPayload("d", "i", RecordSamples.T0).get(0));
    byte[] truncated = Arrays.copyOf(bytes, bytes.length - 7);
    byte[] trailing = Arrays.copyOf(bytes, bytes.length + 3);
    byte[] garbage = bytes.clone();
    Arrays.fill(garbage, 10, garbage.length, (byte) 0xFF);

    for (byte[] corrupt : new byte[][] {truncated, trailing, garbage}) {
      assertThatThrownBy(() -> events.deserialize("prefstream.feedback", corrupt))
          .isInstanceOf(SerializationException.class)
          .hasMessageContaining("'prefstream.feedback'")
          .hasMessageContaining("corrupt body for schema fingerprint")
          .hasMessageContaining(
              String.format(
                  "%016x",
                  SchemaNormalization.parsingFingerprint64(FeedbackEvent.getClassSchema())));
    }
  }

  @Test
  void refusesBytesThatAreNotSingleObjectEncoded() {
    byte[] json = "{\"event_id\": \"e-1\"}".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> events.deserialize("prefstream.feedback", json))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("expected marker C3 01, found 7B 22")
        .hasMessageContaining("look like JSON");
    assertThatThrownBy(() -> events.deserialize("prefstream.feedback", new byte[] {(byte) 0xC3}))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("1 bytes is shorter than the 10-byte");
  }

  @Test
  void refusesToSerializeARecordWithAMissingRequiredField() {
    FeedbackEvent event = Examples.oneOfEachPayload("d", "i", RecordSamples.T0).get(1);
    ((Rating) event.getPayload()).setCriterion(null);

    assertThatThrownBy(() -> events.serialize("prefstream.feedback", event))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("Cannot serialize FeedbackEvent for topic 'prefstream.feedback'");
  }

  @Test
  void keepsTombstonesNull() {
    assertThat(events.deserialize("t", null)).isNull();
    assertThat(events.serialize("t", null)).isNull();
  }

  @SuppressWarnings("unchecked")
  private static <T extends SpecificRecord> AvroSerde<T> roundTripSerde(T record) {
    return new AvroSerde<>((Class<T>) record.getClass());
  }
}
