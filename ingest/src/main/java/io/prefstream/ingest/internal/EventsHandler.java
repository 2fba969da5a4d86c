package io.prefstream.ingest.internal;

import io.prefstream.http.ApiKeys;
import io.prefstream.http.BearerAuth;
import io.prefstream.http.Quotas;
import io.prefstream.http.RequestError;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.schemas.EventRules;
import io.prefstream.schemas.Topics;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;

/**
 * {@code POST /v1/events}: authenticates the key, then {@linkplain EventsReader reads} one event, a
 * JSON array or NDJSON, {@linkplain EventsValidator validates} each against its JSON form, the
 * tenant and {@link EventRules}, {@linkplain EventsPublisher publishes} the valid ones to the
 * feedback topic (claiming their ids in the idempotency window) and the rejected ones to the
 * dead-letter topic, and {@linkplain EventsAnswer answers} once the broker has acknowledged them.
 */
public final class EventsHandler {

  public static final String JSON = EventsReader.JSON;
  public static final String NDJSON = EventsReader.NDJSON;

  private final ApiKeys keys;
  private final BooleanSupplier ready;
  private final EventsReader reader;
  private final EventsValidator validator;
  private final EventsPublisher publisher;
  private final IngestMetrics metrics;
  private final Clock clock;
  private final long retryAfter;
  private final Quotas quotas;

  public EventsHandler(
      IngestConfig config,
      ApiKeys keys,
      Topics topics,
      EventIdWindow window,
      FeedbackWriter writer,
      KafkaHealth health,
      BooleanSupplier ready,
      IngestMetrics metrics,
      Clock clock) {
    this.keys = keys;
    this.ready = ready;
    this.reader = new EventsReader(config);
    this.validator =
        new EventsValidator(
            topics.feedback().jsonForm(),
            new EventRules(clock, config.maxFutureSkew(), config.maxTextChars()));
    this.publisher = new EventsPublisher(config, topics, window, writer, health, metrics, clock);
    this.metrics = metrics;
    this.clock = clock;
    this.retryAfter = Math.max(1, config.retryAfter().toSeconds());
    this.quotas = config.newQuotas(System::nanoTime);
  }

  /**
   * Handles one request. {@code body} is read here, bounded by the configured limit; request-level
   * refusals come back as {@link RequestError}.
   */
  public EventsAnswer handle(
      String authorization, String contentType, long contentLength, InputStream body)
      throws InterruptedException {
    return handle(authorization, contentType, null, contentLength, body);
  }

  /** As above, for a body in {@code contentEncoding} (null or identity: as it is; gzip). */
  public EventsAnswer handle(
      String authorization,
      String contentType,
      String contentEncoding,
      long contentLength,
      InputStream body)
      throws InterruptedException {
    String tenant = BearerAuth.tenantOf(authorization, keys);
    if (!ready.getAsBoolean()) {
      throw new RequestError(
          503, "starting", null, "ingest is reading its idempotency window", retryAfter);
    }
    boolean ndjson = EventsReader.ndjson(contentType);
    byte[] bytes = reader.read(contentLength, contentEncoding, body);
    String requestId = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    List<EventsReader.Incoming> incoming;
    try {
      incoming = reader.events(bytes, ndjson);
    } catch (EventsReader.MalformedBody e) {
      String code = e.error().rule().code();
      publisher.deadLetterBody(
          e.body(), code + ": " + e.getMessage(), e.error().field(), tenant, requestId);
      // The request id names the dead letter (its source_id) that holds the refused body.
      return EventsAnswer.refused(requestId, e.error());
    }
    EventsValidator.checkTenants(incoming, tenant);
    // The tenant's quota, before anything is written: a refused request costs no other tenant.
    Quotas.Decision quota = quotas.take(tenant, incoming.size(), bytes.length);
    if (!quota.granted()) {
      metrics.throttled(tenant, quota.resource());
      throw quota.refusal(tenant, null);
    }
    Instant now = clock.instant();
    EventsValidator.Checked checked = validator.check(incoming, now);
    publisher.publish(checked, tenant, requestId, now);
    return EventsAnswer.of(checked.results(), requestId, retryAfter, metrics);
  }
}
