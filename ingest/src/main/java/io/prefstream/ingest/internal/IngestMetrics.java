package io.prefstream.ingest.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.prefstream.ingest.EventStatus;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ingest meters: events by status (and rejection reason), request latency by HTTP status,
 * producer errors by type, dead letters. Prometheus names get {@code _total} / {@code _seconds}.
 */
public final class IngestMetrics {

  private final MeterRegistry registry;
  private final Map<EventStatus, Counter> byStatus = new EnumMap<>(EventStatus.class);
  private final Map<String, Counter> rejectedByReason = new ConcurrentHashMap<>();
  private final Map<Integer, Timer> requests = new ConcurrentHashMap<>();
  private final Map<String, Counter> producerErrors = new ConcurrentHashMap<>();
  private final Counter deadLetters;
  private final Counter deadLetterErrors;

  public IngestMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (EventStatus status : EventStatus.values()) {
      if (status != EventStatus.REJECTED) {
        byStatus.put(
            status,
            Counter.builder("prefstream.ingest.events")
                .description("Events answered, by status (and reason when rejected)")
                .tag("status", status.code())
                .tag("reason", "")
                .register(registry));
      }
    }
    deadLetters =
        Counter.builder("prefstream.ingest.dead.letters")
            .description("Rejected events and unparseable bodies written to the dead-letter topic")
            .register(registry);
    deadLetterErrors =
        Counter.builder("prefstream.ingest.dead.letter.errors")
            .description("Dead letters the broker did not acknowledge")
            .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void event(EventStatus status) {
    byStatus.get(status).increment();
  }

  public void rejected(String reason) {
    rejectedByReason
        .computeIfAbsent(
            reason,
            r ->
                Counter.builder("prefstream.ingest.events")
                    .description("Events answered, by status (and reason when rejected)")
                    .tag("status", EventStatus.REJECTED.code())
                    .tag("reason", r)
                    .register(registry))
        .increment();
  }

  public void request(int httpStatus, long nanos) {
    requests
        .computeIfAbsent(
            httpStatus,
            s ->
                Timer.builder("prefstream.ingest.request")
                    .description("POST /v1/events latency, by HTTP status")
                    .tag("status", Integer.toString(s))
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofSeconds(30))
                    .register(registry))
        .record(Duration.ofNanos(nanos));
  }

  public void producerError(Throwable error) {
    producerErrors
        .computeIfAbsent(
            error.getClass().getSimpleName(),
            type ->
                Counter.builder("prefstream.ingest.producer.errors")
                    .description("Sends the broker failed or did not acknowledge in time, by type")
                    .tag("type", type)
                    .register(registry))
        .increment();
  }

  /** A request refused by its tenant's quota, by the resource that ran short. */
  public void throttled(String tenant, String resource) {
    Counter.builder("prefstream.ingest.throttled")
        .description("Requests refused (429) by their tenant's quota, by the resource short")
        .tag("tenant", tenant)
        .tag("resource", resource)
        .register(registry)
        .increment();
  }

  public void deadLetter() {
    deadLetters.increment();
  }

  public void deadLetterError() {
    deadLetterErrors.increment();
  }
}
