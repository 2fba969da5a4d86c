package io.prefstream.ingest;

import io.prefstream.config.Settings;
import io.prefstream.http.HttpListener;
import io.prefstream.http.Quotas;
import java.time.Duration;

/** The ingest service's configuration, immutable; see {@link IngestOptions} for each key. */
public record IngestConfig(
    HttpListener listener,
    long maxBodyBytes,
    int maxEvents,
    Duration maxFutureSkew,
    int maxTextChars,
    Duration dedupWindow,
    int dedupMaxEntries,
    Duration ackTimeout,
    long maxInFlightBytes,
    Duration retryAfter,
    int dlqMaxRawBytes,
    int httpThreads,
    Settings quotas) {

  public static IngestConfig defaults() {
    return from(Settings.empty());
  }

  /** Reads every {@code ingest.*} key, failing on unknown ones. */
  public static IngestConfig from(Settings settings) {
    settings
        .without(IngestOptions.QUOTAS.tenantPrefix())
        .requireKnown("ingest.", IngestOptions.ALL);
    IngestOptions.QUOTAS.read(settings, () -> 0L); // per-tenant keys checked now, at start
    return new IngestConfig(
        IngestOptions.LISTENER.read(settings),
        settings.get(IngestOptions.MAX_BODY_BYTES),
        settings.get(IngestOptions.MAX_EVENTS),
        settings.get(IngestOptions.MAX_FUTURE_SKEW),
        settings.get(IngestOptions.MAX_TEXT_CHARS),
        settings.get(IngestOptions.DEDUP_WINDOW),
        settings.get(IngestOptions.DEDUP_MAX_ENTRIES),
        settings.get(IngestOptions.ACK_TIMEOUT),
        settings.get(IngestOptions.MAX_IN_FLIGHT_BYTES),
        settings.get(IngestOptions.RETRY_AFTER),
        Math.toIntExact(settings.get(IngestOptions.DLQ_MAX_RAW_BYTES)),
        settings.get(IngestOptions.HTTP_THREADS),
        settings);
  }

  /** A copy on another port (tests and the launcher pick ports). */
  public IngestConfig withPort(int newPort) {
    return new IngestConfig(
        listener.withPort(newPort),
        maxBodyBytes,
        maxEvents,
        maxFutureSkew,
        maxTextChars,
        dedupWindow,
        dedupMaxEntries,
        ackTimeout,
        maxInFlightBytes,
        retryAfter,
        dlqMaxRawBytes,
        httpThreads,
        quotas);
  }

  /** Each tenant's token buckets (events and bytes a second), read from the quota keys. */
  public Quotas newQuotas(java.util.function.LongSupplier nanos) {
    return IngestOptions.QUOTAS.read(quotas, nanos);
  }

  /** Interface the API binds. */
  public String host() {
    return listener.host();
  }

  /** The API's port, 0 for a free one. */
  public int port() {
    return listener.port();
  }
}
