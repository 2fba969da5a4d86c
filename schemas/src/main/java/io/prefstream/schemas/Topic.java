package io.prefstream.schemas;

import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * One prefstream topic: its name, its key and value serdes, and how it is created (partitions and
 * topic configs such as cleanup policy and retention). Keys are strings on every topic.
 *
 * @param name full topic name, prefix included
 * @param shortName the name without prefix, e.g. {@code feedback.dlq}
 * @param valueType the Avro record class of values
 * @param valueSerde the value serde (single-object encoding)
 * @param jsonForm the value's JSON form
 * @param keyOf the record's Kafka key (DESIGN.md, "Topics")
 * @param partitions partitions to create it with
 * @param configs topic-level configs to create it with
 */
public record Topic<V extends SpecificRecord>(
    String name,
    String shortName,
    Class<V> valueType,
    AvroSerde<V> valueSerde,
    JsonForm<V> jsonForm,
    Function<V, String> keyOf,
    int partitions,
    Map<String, String> configs) {

  public Topic {
    Objects.requireNonNull(name, "name");
    if (partitions < 1) {
      throw new IllegalArgumentException(
          "Topic " + name + " needs at least one partition, got " + partitions);
    }
    configs = Map.copyOf(configs);
  }

  /** The Kafka key of a value of this topic. */
  public String key(V value) {
    return keyOf.apply(value);
  }

  public Serde<String> keySerde() {
    return Serdes.String();
  }

  public boolean compacted() {
    return configs.getOrDefault("cleanup.policy", "delete").contains("compact");
  }
}
