package io.prefstream.pairs.internal;

import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import java.nio.charset.StandardCharsets;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes records to one prefstream topic with that topic's own key and value serde: only the prefix
 * and the topic's short name travel to the task managers, where the {@link Topic} is rebuilt.
 */
public final class TopicRecordSerializer<T extends SpecificRecord>
    implements KafkaRecordSerializationSchema<T> {

  private static final long serialVersionUID = 1L;

  private final String prefix;
  private final String shortName;
  private transient Topic<T> topic;

  public TopicRecordSerializer(Topic<T> topic, Topics topics) {
    this.prefix = topics.prefix();
    this.shortName = topic.shortName();
  }

  @SuppressWarnings("unchecked")
  private Topic<T> topic() {
    if (topic == null) {
      topic =
          (Topic<T>)
              Topics.withPrefix(prefix)
                  .find(shortName)
                  .orElseThrow(() -> new IllegalStateException("no topic " + shortName));
    }
    return topic;
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(
      T element, KafkaSinkContext context, Long timestamp) {
    Topic<T> t = topic();
    // No explicit timestamp: the record carries the time it was written.
    return new ProducerRecord<>(
        t.name(),
        null,
        null,
        t.key(element).getBytes(StandardCharsets.UTF_8),
        t.valueSerde().serialize(t.name(), element));
  }
}
