package io.prefstream.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.http.ApiKeys;
import io.prefstream.ingest.FeedbackClient;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.IngestServer;
import io.prefstream.testing.KafkaFixture;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
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
    try (KafkaFixture kafka = KafkaFixture.start("simulator");
        IngestServer ingest =
            new IngestServer(
                    IngestConfig.defaults().withPort(0),
                    ApiKeys.localDefault(),
                    kafka.topics(),
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

      assertThat(report.sent()).as("exactly the events asked for").isEqualTo(3000);
      assertThat(report.unanswered()).isZero();
      assertThat(report.validRejected()).isZero();
      assertThat(report.malformedAccepted()).isZero();
      assertThat(report.rejected()).isEqualTo(report.malformedSent()).isPositive();
      assertThat(report.accepted()).isEqualTo(report.sent() - report.malformedSent());
      assertThat(kafka.readToEnd(kafka.topics().feedback())).hasSize((int) report.accepted());
    }
  }
}
