package io.prefstream.launcher.bench;

import java.util.Properties;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The pair benchmark's baseline: a Flink job with no logic that copies a topic's records (key and
 * value bytes) to another topic, exactly once, over the same source, sink and checkpoints as the
 * pair builder (its producer settings too).
 */
final class CopyJob {

  private CopyJob() {}

  static JobExecutionResult run(
      StreamExecutionEnvironment env,
      String bootstrap,
      String from,
      String to,
      String transactionalIdPrefix,
      Properties producer)
      throws Exception {
    KafkaSource<Tuple2<byte[], byte[]>> source =
        KafkaSource.<Tuple2<byte[], byte[]>>builder()
            .setBootstrapServers(bootstrap)
            .setTopics(from)
            .setGroupId(transactionalIdPrefix)
            .setStartingOffsets(OffsetsInitializer.earliest())
            .setBounded(OffsetsInitializer.latest())
            .setDeserializer(new KeyValue())
            .build();
    KafkaSink<Tuple2<byte[], byte[]>> sink =
        KafkaSink.<Tuple2<byte[], byte[]>>builder()
            .setBootstrapServers(bootstrap)
            .setKafkaProducerConfig(producer)
            .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
            .setTransactionalIdPrefix(transactionalIdPrefix)
            .setRecordSerializer(new ToTopic(to))
            .build();
    env.fromSource(source, WatermarkStrategy.noWatermarks(), "copy source")
        .sinkTo(sink)
        .name("copy sink");
    return env.execute("prefstream-bench-copy");
  }

  private static final class KeyValue
      implements KafkaRecordDeserializationSchema<Tuple2<byte[], byte[]>> {
    @Override
    public void deserialize(
        ConsumerRecord<byte[], byte[]> record, Collector<Tuple2<byte[], byte[]>> out) {
      out.collect(Tuple2.of(record.key(), record.value()));
    }

    @Override
    public TypeInformation<Tuple2<byte[], byte[]>> getProducedType() {
      return new TupleTypeInfo<>(
          PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO,
          PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
    }
  }

  private static final class ToTopic
      implements KafkaRecordSerializationSchema<Tuple2<byte[], byte[]>> {
    private final String topic;

    ToTopic(String topic) {
      this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
        Tuple2<byte[], byte[]> element, KafkaSinkContext context, Long timestamp) {
      return new ProducerRecord<>(topic, null, null, element.f0, element.f1);
    }
  }
}
