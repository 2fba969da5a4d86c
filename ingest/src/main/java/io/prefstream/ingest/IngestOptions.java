package io.prefstream.ingest;

import static io.prefstream.config.ConfigOption.doubleOption;
import static io.prefstream.config.ConfigOption.durationOption;
import static io.prefstream.config.ConfigOption.intOption;
import static io.prefstream.config.ConfigOption.sizeOption;

import io.prefstream.config.ConfigOption;
import io.prefstream.config.KafkaOptions;
import io.prefstream.http.ListenerOptions;
import io.prefstream.http.QuotaOptions;
import java.time.Duration;
import java.util.List;

/**
 * Every configuration key of the ingest service, typed and defaulted; read into {@link
 * IngestConfig}.
 */
public final class IngestOptions {

  public static final ConfigOption<String> BOOTSTRAP_SERVERS =
      KafkaOptions.bootstrapServers("ingest");
  public static final ConfigOption<String> TOPIC_PREFIX = KafkaOptions.topicPrefix("ingest");

  /** The API's listener: host, port, TLS keystore, and the separate /metrics listener. */
  public static final ListenerOptions LISTENER = new ListenerOptions("ingest", 8080);

  public static final ConfigOption<String> HOST = LISTENER.host();
  public static final ConfigOption<Integer> PORT = LISTENER.port();
  public static final ConfigOption<Long> MAX_BODY_BYTES =
      sizeOption("ingest.max-body-bytes", 1024 * 1024, 1024, "Largest request body (413 beyond).");
  public static final ConfigOption<Integer> MAX_EVENTS =
      intOption("ingest.max-events", 1000, 1, 100_000, "Most events in one request (413 beyond).");
  public static final ConfigOption<Duration> MAX_FUTURE_SKEW =
      durationOption(
          "ingest.max-future-skew",
          Duration.ofMinutes(5),
          Duration.ZERO,
          "How far beyond the ingest clock occurred_at may lie.");
  public static final ConfigOption<Integer> MAX_TEXT_CHARS =
      intOption(
          "ingest.max-text-chars", 65536, 1, 65536, "Longest prompt or response, in characters.");
  public static final ConfigOption<Duration> DEDUP_WINDOW =
      durationOption(
          "ingest.dedup-window",
          Duration.ofHours(24),
          Duration.ofSeconds(1),
          "How long a tenant's event_id is remembered as seen.");
  public static final ConfigOption<Integer> DEDUP_MAX_ENTRIES =
      intOption(
          "ingest.dedup-max-entries",
          2_000_000,
          1,
          Integer.MAX_VALUE,
          "Most remembered event ids (about 100 bytes each); the oldest go first beyond it.");
  public static final ConfigOption<Duration> ACK_TIMEOUT =
      durationOption(
          "ingest.ack-timeout",
          Duration.ofSeconds(5),
          Duration.ofMillis(100),
          "How long a request waits for the broker's acknowledgement before answering 503.");
  public static final ConfigOption<Long> MAX_IN_FLIGHT_BYTES =
      sizeOption(
          "ingest.max-in-flight-bytes",
          32L * 1024 * 1024,
          1,
          "Encoded bytes awaiting acknowledgement; a request that finds no room gets 429.");
  public static final ConfigOption<Duration> RETRY_AFTER =
      durationOption(
          "ingest.retry-after",
          Duration.ofSeconds(1),
          Duration.ofSeconds(1),
          "The Retry-After given with 429 and 503.");
  public static final ConfigOption<Long> DLQ_MAX_RAW_BYTES =
      sizeOption(
          "ingest.dlq-max-raw-bytes",
          64 * 1024,
          16,
          "How much of a rejected event or unparseable body the dead letter keeps.");
  public static final ConfigOption<Integer> HTTP_THREADS =
      intOption("ingest.http-threads", 64, 8, 4096, "Most HTTP worker threads.");

  public static final ConfigOption<Double> QUOTA_EVENTS =
      doubleOption(
          "ingest.quota.events-per-second",
          2000,
          0,
          1e9,
          "Events a second each tenant may send (token bucket; 429 with Retry-After beyond);"
              + " ingest.quota.tenant.TENANT.events-per-second sets one tenant's; 0: no limit.");
  public static final ConfigOption<Long> QUOTA_BYTES =
      sizeOption(
          "ingest.quota.bytes-per-second",
          8L << 20,
          0,
          "Request bytes (decoded) a second each tenant may send; per tenant as above; 0: no"
              + " limit.");

  /** Per-tenant quotas: events and bytes a second, the burst, and the per-tenant keys. */
  public static final QuotaOptions QUOTAS =
      new QuotaOptions(
          "ingest",
          Duration.ofSeconds(5),
          new QuotaOptions.Resource("events", QUOTA_EVENTS),
          new QuotaOptions.Resource("bytes", QUOTA_BYTES));

  public static final List<ConfigOption<?>> ALL =
      LISTENER.and(
          List.of(
              BOOTSTRAP_SERVERS,
              TOPIC_PREFIX,
              MAX_BODY_BYTES,
              MAX_EVENTS,
              MAX_FUTURE_SKEW,
              MAX_TEXT_CHARS,
              DEDUP_WINDOW,
              DEDUP_MAX_ENTRIES,
              ACK_TIMEOUT,
              MAX_IN_FLIGHT_BYTES,
              RETRY_AFTER,
              DLQ_MAX_RAW_BYTES,
              HTTP_THREADS,
              QUOTA_EVENTS,
              QUOTA_BYTES,
              QUOTAS.burst()));

  private IngestOptions() {}
}
