package io.prefstream.schemas;

import io.prefstream.schemas.internal.SingleObjectCodec;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serde for one prefstream record type in Avro single-object encoding. Old writer schemas
 * (released versions) are resolved by fingerprint; unknown fingerprints and corrupt bytes throw
 * {@link SerializationException} naming the topic and fingerprint. A null value (a tombstone on a
 * compacted topic) stays null.
 */
public final class AvroSerde<T extends SpecificRecord>
    implements Serde<T>, Serializer<T>, Deserializer<T> {

  private final SingleObjectCodec<T> codec;

  public AvroSerde(Class<T> type) {
    this.codec = new SingleObjectCodec<>(type);
  }

  /** The codec behind this serde, e.g. to register a writer schema that is not released yet. */
  public SingleObjectCodec<T> codec() {
    return codec;
  }

  @Override
  public byte[] serialize(String topic, T data) {
    return data == null ? null : codec.encode(data, topic);
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    return data == null ? null : codec.decode(data, topic);
  }

  @Override
  public Serializer<T> serializer() {
    return this;
  }

  @Override
  public Deserializer<T> deserializer() {
    return this;
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    // Nothing to configure: the record type fixes the schema, released versions ship in the jar.
  }

  @Override
  public void close() {}
}
