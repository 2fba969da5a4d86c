package io.prefstream.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.avro.FeedbackEvent;
import io.prefstream.schemas.Examples;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The fixture against the broker the switch names: topics, typed writes and reads to the end. */
class KafkaFixtureIT {

  @RegisterExtension static final KafkaFixture SUITE = KafkaFixture.suite("suite");

  @Test
  void registeredAsAnExtensionItsBrokerRunsForTheSuite() {
    assertThat(SUITE.topics().prefix()).startsWith("it-suite-");
    assertThat(SUITE.readToEnd(SUITE.topics().pairs())).isEmpty();
  }

  @Test
  void writesThroughTheTopicsSerdeAndReadsEveryRecordBackTombstonesIncluded() throws Exception {
    try (KafkaFixture kafka = KafkaFixture.start("fixture")) {
      Topics fresh = kafka.freshTopics("fresh");
      assertThat(fresh.prefix()).isNotEqualTo(kafka.topics().prefix()).startsWith("it-fresh-");
      Topic<FeedbackEvent> feedback = fresh.feedback();
      List<FeedbackEvent> events =
          Examples.oneOfEachPayload("demo", "i-1", Instant.parse("2026-11-23T10:00:00Z"));

      kafka.send(feedback, events);
      try (KafkaProducer<String, byte[]> raw = kafka.bytesProducer()) {
        raw.send(new ProducerRecord<>(feedback.name(), "gone", null)).get();
      }

      List<ConsumerRecord<String, FeedbackEvent>> read = kafka.readToEnd(feedback);
      assertThat(read).hasSize(events.size() + 1);
      assertThat(read.stream().map(ConsumerRecord::value).filter(v -> v != null).toList())
          .containsExactlyInAnyOrderElementsOf(events);
      assertThat(read)
          .filteredOn(r -> r.value() != null)
          .allSatisfy(r -> assertThat(r.key()).isEqualTo(feedback.key(r.value())));
      assertThat(read)
          .filteredOn(r -> r.value() == null)
          .extracting(ConsumerRecord::key)
          .containsExactly("gone");
      assertThat(kafka.readToEnd(kafka.topics().feedback())).isEmpty();
    }
  }
}
