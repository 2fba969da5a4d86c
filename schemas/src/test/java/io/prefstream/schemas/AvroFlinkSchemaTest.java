package io.prefstream.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.avro.PreferencePair;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class AvroFlinkSchemaTest {

  @Test
  void survivesJavaSerializationAndRoundTrips() throws Exception {
    AvroFlinkSchema<PreferencePair> schema = AvroFlinkSchema.forTopic(Topics.defaults().pairs());
    AvroFlinkSchema<PreferencePair> shipped = reserialize(schema);

    byte[] bytes = shipped.serialize(RecordSamples.pair());

    assertThat(shipped.deserialize(bytes)).isEqualTo(RecordSamples.pair());
    assertThat(shipped.getProducedType().getTypeClass()).isEqualTo(PreferencePair.class);
  }

  @Test
  void movesRecordsBetweenOperatorsWithAvroNotKryo() throws Exception {
    TypeInformation<PreferencePair> info =
        AvroFlinkSchema.forTopic(Topics.defaults().pairs()).getProducedType();
    TypeSerializer<PreferencePair> serializer = info.createSerializer(new SerializerConfigImpl());
    DataOutputSerializer out = new DataOutputSerializer(256);

    serializer.serialize(RecordSamples.pair(), out);

    assertThat(serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer())))
        .isEqualTo(RecordSamples.pair());
  }

  @Test
  void sharesTheKafkaSerdeWireFormat() {
    AvroFlinkSchema<PreferencePair> schema = AvroFlinkSchema.forTopic(Topics.defaults().pairs());
    byte[] fromKafka = Topics.defaults().pairs().valueSerde().serialize("x", RecordSamples.pair());

    assertThat(schema.deserialize(fromKafka)).isEqualTo(RecordSamples.pair());
  }

  @Test
  void namesTheTopicOnCorruptBytes() {
    AvroFlinkSchema<PreferencePair> schema = AvroFlinkSchema.forTopic(Topics.defaults().pairs());

    assertThatThrownBy(() -> schema.deserialize(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("'prefstream.pairs'");
  }

  @SuppressWarnings("unchecked")
  private static <T> T reserialize(T value) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(value);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }
}
