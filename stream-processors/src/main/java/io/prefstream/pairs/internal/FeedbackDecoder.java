package io.prefstream.pairs.internal;

import io.prefstream.avro.FeedbackEvent;
import io.prefstream.pairs.PairSemantics;
import io.prefstream.schemas.EventRules;
import io.prefstream.schemas.FieldError;
import io.prefstream.schemas.internal.SingleObjectCodec;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads feedback records into events, never failing: undecodable bytes, events that break a rule
 * and events whose time lies too far beyond their receipt become dead letters (the latter would
 * drag the watermark forward and make every other event late).
 */
public final class FeedbackDecoder implements KafkaRecordDeserializationSchema<FeedbackInput> {

  private static final long serialVersionUID = 1L;

  private final PairSemantics semantics;
  private transient SingleObjectCodec<FeedbackEvent> codec;
  private transient EventRules rules;
  private transient Counter rejectedRecords;

  public FeedbackDecoder(PairSemantics semantics) {
    this.semantics = semantics;
  }

  @Override
  public void open(DeserializationSchema.InitializationContext context) {
    codec = new SingleObjectCodec<>(FeedbackEvent.class);
    // Only the content rules apply here: the ingest clock is not ours.
    rules = new EventRules(Clock.systemUTC(), semantics.maxFutureSkew(), semantics.maxTextChars());
    rejectedRecords = context.getMetricGroup().addGroup("prefstream").counter("rejectedRecords");
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<FeedbackInput> out) {
    String sourceId = record.topic() + "/" + record.partition() + "/" + record.offset();
    byte[] raw = record.value() == null ? new byte[0] : record.value();
    FeedbackEvent event;
    try {
      event = codec.decode(raw, record.topic());
    } catch (RuntimeException e) {
      rejectedRecords.inc();
      out.collect(
          FeedbackInput.rejected(
              DeadLetters.of(raw, e.getMessage(), null, sourceId, null, Instant.now())));
      return;
    }
    String problem = null;
    String field = null;
    List<FieldError> errors = rules.checkContent(event);
    if (!errors.isEmpty()) {
      problem = errors.get(0).field() + ": " + errors.get(0).reason();
      field = errors.get(0).field();
    } else if (event.getReceivedAt() != null
        && event.getOccurredAt().isAfter(event.getReceivedAt().plus(semantics.maxFutureSkew()))) {
      field = "occurred_at";
      problem =
          "occurred_at "
              + event.getOccurredAt()
              + " lies more than "
              + semantics.maxFutureSkew()
              + " beyond received_at "
              + event.getReceivedAt();
    }
    if (problem != null) {
      rejectedRecords.inc();
      out.collect(
          FeedbackInput.rejected(
              DeadLetters.of(raw, problem, field, sourceId, event.getTenantId(), Instant.now())));
      return;
    }
    out.collect(FeedbackInput.of(event));
  }

  @Override
  public TypeInformation<FeedbackInput> getProducedType() {
    return TypeInformation.of(FeedbackInput.class);
  }
}
