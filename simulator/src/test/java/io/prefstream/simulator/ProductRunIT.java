package io.prefstream.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.ingest.ApiKeys;
import io.prefstream.ingest.FeedbackClient;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.IngestServer;
import io.prefstream.local.LocalKafka;
import io.prefstream.schemas.Topics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The simulated product against a real ingest and broker: every valid event lands once, every
 * malformed one is refused.
 */
@Timeout(120)
class ProductRunIT {

  @Test
  void simulatedProductEventsAreAcceptedExactlyOnceAndMalformedOnesRejected() throws Exception {
    Topics topics = Topics.withPrefix("sim-" + UUID.randomUUID().toString().substring(0, 8));
    try (LocalKafka kafka = LocalKafka.builder().optPort(0).optTopics(topics).build().start();
        IngestServer ingest =
            new IngestServer(
                    IngestConfig.defaults().withPort(0),
                    ApiKeys.localDefault(),
                    topics,
                    Map.of("bootstrap.servers", kafka.bootstrapServers()),
                    Clock.systemUTC())
                .start()) {
      ingest.awaitReady(Duration.ofSeconds(30));
      Instant start = Instant.now().minus(Duration.ofMinutes(10));
      Simulator simulator =
          new Simulator(
              SimulatorConfig.builder(start)
                  .optStep(Duration.ofMillis(50))
                  .optMalformedShare(0.05)
                  .build());
      ProductRun.Report report;
      try (FeedbackClient client = FeedbackClient.builder(ingest.uri(), ApiKeys.DEMO_KEY).build()) {
        report = ProductRun.run(simulator, client, 3000);
      }

      assertThat(report.unanswered()).isZero();
      assertThat(report.validRejected()).isZero();
      assertThat(report.malformedAccepted()).isZero();
      assertThat(report.rejected()).isEqualTo(report.malformedSent()).isPositive();
      assertThat(report.accepted()).isEqualTo(report.sent() - report.malformedSent());
      assertThat(recordsIn(kafka, topics.feedback().name())).isEqualTo(report.accepted());
    }
  }

  private static long recordsIn(LocalKafka kafka, String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      var partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
    }
  }
}
