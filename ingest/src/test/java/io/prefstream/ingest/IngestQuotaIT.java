package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.config.Settings;
import io.prefstream.schemas.Examples;
import io.prefstream.schemas.JsonForm;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Per-tenant quotas through a real ingest and broker: one tenant flooding far past its quota is
 * answered 429 with Retry-After and has nothing refused written, while another tenant sending
 * beside it is never refused and never waits past the broker's acknowledgement timeout.
 */
@Timeout(180)
class IngestQuotaIT {

  private static final JsonForm<FeedbackEvent> FORM = JsonForm.of(FeedbackEvent.class);

  private static String batch(String tenant, int n) {
    ArrayNode array = JsonForm.mapper().createArrayNode();
    String interaction = "q-" + UUID.randomUUID();
    Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    while (array.size() < n) {
      for (FeedbackEvent e : Examples.oneOfEachPayload(tenant, interaction, at)) {
        if (array.size() < n) {
          array.add(
              FORM.toJson(
                  FeedbackEvent.newBuilder(e).setEventId(UUID.randomUUID().toString()).build()));
        }
      }
    }
    return array.toString();
  }

  private static long p(List<Long> sorted, double q) {
    return sorted.isEmpty() ? -1 : sorted.get((int) Math.min(sorted.size() - 1, q * sorted.size()));
  }

  @Test
  void oneTenantsFloodIsThrottledAndLeavesAnotherUnrefused() throws Exception {
    try (IngestFixture fixture = IngestFixture.start()) {
      IngestServer server =
          fixture.server(
              IngestConfig.from(
                  Settings.of(
                      Map.of(
                          "ingest.quota.tenant.acme.events-per-second", "200",
                          "ingest.quota.burst", "2s"))));

      // The other tenant alone first: its latencies for comparison.
      List<Long> alone = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        long t = System.nanoTime();
        HttpResponse<String> r =
            fixture.post(server, "application/json", batch("other", 1), "other-key");
        alone.add(System.nanoTime() - t);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      }

      AtomicBoolean flooding = new AtomicBoolean(true);
      AtomicLong acmeAccepted = new AtomicLong();
      AtomicLong acmeThrottled = new AtomicLong();
      Map<Integer, Long> acmeStatuses = new ConcurrentHashMap<>();
      List<String> retryAfters = Collections.synchronizedList(new ArrayList<>());
      ExecutorService flood = Executors.newFixedThreadPool(6);
      long floodStart = System.nanoTime();
      for (int t = 0; t < 6; t++) {
        flood.submit(
            () -> {
              while (flooding.get()) {
                HttpResponse<String> r =
                    fixture.post(server, "application/json", batch("acme", 50), IngestFixture.KEY);
                acmeStatuses.merge(r.statusCode(), 1L, Long::sum);
                if (r.statusCode() == 200) {
                  for (JsonNode result : JsonForm.mapper().readTree(r.body()).get("results")) {
                    if (result.get("status").asText().equals("accepted")) {
                      acmeAccepted.incrementAndGet();
                    }
                  }
                } else if (r.statusCode() == 429) {
                  acmeThrottled.incrementAndGet();
                  JsonNode body = JsonForm.mapper().readTree(r.body());
                  if (body.get("error").asText().equals("quota_exceeded")) {
                    retryAfters.add(r.headers().firstValue("Retry-After").orElse("none"));
                  }
                }
              }
              return null;
            });
      }
      List<Long> beside = new ArrayList<>();
      Map<Integer, Long> otherStatuses = new ConcurrentHashMap<>();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
      int otherSent = 0;
      while (System.nanoTime() < until) {
        long t = System.nanoTime();
        HttpResponse<String> r =
            fixture.post(server, "application/json", batch("other", 1), "other-key");
        beside.add(System.nanoTime() - t);
        otherStatuses.merge(r.statusCode(), 1L, Long::sum);
        otherSent++;
        Thread.sleep(20);
      }
      flooding.set(false);
      flood.shutdown();
      assertThat(flood.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      double floodSeconds = (System.nanoTime() - floodStart) / 1e9;

      Collections.sort(alone);
      Collections.sort(beside);
      System.out.printf(
          "quota: acme %s over %.1f s, %d events accepted (%.0f/s against a quota of 200/s,"
              + " burst 400); other %s of %d; other's latency alone p50 %.1f ms p99 %.1f ms,"
              + " beside the flood p50 %.1f ms p99 %.1f ms%n",
          acmeStatuses,
          floodSeconds,
          acmeAccepted.get(),
          acmeAccepted.get() / floodSeconds,
          otherStatuses,
          otherSent,
          p(alone, 0.5) / 1e6,
          p(alone, 0.99) / 1e6,
          p(beside, 0.5) / 1e6,
          p(beside, 0.99) / 1e6);

      // The flood: throttled, told when to retry, and held to its quota (burst + rate x time).
      assertThat(acmeThrottled.get()).isPositive();
      assertThat(retryAfters).isNotEmpty().allSatisfy(v -> assertThat(v).matches("[1-9][0-9]*"));
      assertThat(acmeAccepted.get()).isLessThanOrEqualTo((long) (400 + 200 * floodSeconds) + 50);
      // The other tenant: never refused, never past the acknowledgement timeout (5 s, a 503).
      assertThat(otherStatuses).containsOnlyKeys(200);
      assertThat(p(beside, 1.0)).isLessThan(TimeUnit.SECONDS.toNanos(5));
      // Nothing refused was written: Kafka holds exactly the accepted events.
      long stored = fixture.feedback().stream().filter(e -> e.getTenantId().equals("acme")).count();
      assertThat(stored).isEqualTo(acmeAccepted.get());
      assertThat(fixture.deadLetters()).isEmpty();
    }
  }
}
