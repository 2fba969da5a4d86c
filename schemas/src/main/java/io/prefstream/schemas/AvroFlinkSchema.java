package io.prefstream.schemas;

import io.prefstream.schemas.internal.SingleObjectCodec;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;

/**
 * Flink (de)serialization schema for one prefstream record type, with the same wire format and
 * errors as {@link AvroSerde}. Serializable: only the class and topic name travel to the task
 * managers; the codec is built there.
 */
public final class AvroFlinkSchema<T extends SpecificRecordBase>
    implements DeserializationSchema<T>, SerializationSchema<T> {

  private static final long serialVersionUID = 1L;

  private final Class<T> type;
  private final String topic;
  private transient SingleObjectCodec<T> codec;

  public AvroFlinkSchema(Class<T> type, String topic) {
    this.type = type;
    this.topic = topic;
  }

  public static <T extends SpecificRecordBase> AvroFlinkSchema<T> forTopic(Topic<T> topic) {
    return new AvroFlinkSchema<>(topic.valueType(), topic.name());
  }

  private SingleObjectCodec<T> codec() {
    if (codec == null) {
      codec = new SingleObjectCodec<>(type);
    }
    return codec;
  }

  @Override
  public T deserialize(byte[] message) {
    return message == null ? null : codec().decode(message, topic);
  }

  @Override
  public boolean isEndOfStream(T nextElement) {
    return false;
  }

  @Override
  public byte[] serialize(T element) {
    return codec().encode(element, topic);
  }

  @Override
  public TypeInformation<T> getProducedType() {
    return new AvroTypeInfo<>(type);
  }
}
