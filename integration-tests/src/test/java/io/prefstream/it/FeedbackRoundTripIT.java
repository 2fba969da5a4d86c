package io.prefstream.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.avro.FeedbackEvent;
import io.prefstream.schemas.Examples;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.TopicAdmin;
import io.prefstream.testing.KafkaFixture;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(120)
class FeedbackRoundTripIT {

  @RegisterExtension static final KafkaFixture KAFKA = KafkaFixture.suite("roundtrip");

  @Test
  void createsEveryTopicWithItsCleanupPolicyAndRetention() throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
    try (Admin admin = Admin.create(p)) {
      assertThat(new TopicAdmin(admin, Duration.ofSeconds(30)).check(KAFKA.topics().all()))
          .isEmpty();
      for (Topic<?> topic : KAFKA.topics().all()) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic.name());
        Config config =
            admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
        for (Map.Entry<String, String> expected : topic.configs().entrySet()) {
          assertThat(config.get(expected.getKey()).value())
              .as(topic.name() + " " + expected.getKey())
              .isEqualTo(expected.getValue());
        }
      }
    }
  }

  @Test
  void shouldDeliverEveryPayloadTypeToASecondClientUnchanged() throws Exception {
    Topic<FeedbackEvent> topic = KAFKA.topics().feedback();
    List<FeedbackEvent> sent = new ArrayList<>();
    sent.addAll(Examples.oneOfEachPayload("acme", "i-1", Instant.parse("2026-11-23T10:00:00Z")));
    sent.addAll(Examples.oneOfEachPayload("acme", "i-2", Instant.parse("2026-11-23T10:05:00Z")));
    List<RecordMetadata> written = new ArrayList<>();
    try (KafkaProducer<String, FeedbackEvent> producer = KAFKA.producer(topic)) {
      for (FeedbackEvent event : sent) {
        written.add(
            producer
                .send(new ProducerRecord<>(topic.name(), topic.key(event), event))
                .get(30, TimeUnit.SECONDS));
      }
    }

    List<ConsumerRecord<String, FeedbackEvent>> received = new ArrayList<>();
    try (KafkaConsumer<String, FeedbackEvent> consumer = KAFKA.consumer(topic)) {
      consumer.subscribe(List.of(topic.name()));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (received.size() < sent.size() && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(received::add);
      }
    }

    assertThat(received)
        .extracting(ConsumerRecord::value)
        .containsExactlyInAnyOrderElementsOf(sent);
    assertThat(received)
        .extracting(r -> r.value().getPayload().getClass().getSimpleName())
        .containsOnly(
            "Exposure",
            "Rating",
            "Thumb",
            "PairwiseChoice",
            "Ranking",
            "ImplicitSignal",
            "LabeledPair");
    for (ConsumerRecord<String, FeedbackEvent> record : received) {
      assertThat(record.key()).isEqualTo("acme/" + record.value().getInteractionId());
    }
    assertThat(written.subList(0, 7))
        .extracting(RecordMetadata::partition)
        .as("one interaction, one partition")
        .containsOnly(written.get(0).partition());
  }
}
