package io.prefstream.ingest;

import io.prefstream.config.KafkaConnection;
import io.prefstream.config.Settings;
import io.prefstream.http.ApiKeys;
import io.prefstream.schemas.Topics;
import io.prefstream.service.ServiceException;
import io.prefstream.service.Services;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * Runs the ingest API alone, as its own process: {@code IngestMain [--config FILE] [key=value ...]}
 * with {@code ingest.*} and {@code kafka.*} keys (environment variables {@code
 * PREFSTREAM_INGEST_...} too); API keys from {@code PREFSTREAM_API_KEYS} or {@code
 * PREFSTREAM_API_KEYS_FILE}. {@code prefstream run ingest} and the local stack start it by {@link
 * #start}.
 */
public final class IngestMain {

  /** How long ingest may read its idempotency window before it says it still answers 503. */
  public static final Duration READY_WITHIN = Duration.ofMinutes(5);

  private IngestMain() {}

  public static void main(String[] args) {
    Services.main(
        "ingest",
        () ->
            start(
                Settings.fromArgs(Settings.fromEnv(System.getenv(), IngestOptions.ALL), args),
                new PrintWriter(System.out, true)));
  }

  /**
   * Starts ingest from fully merged settings and waits until it has read its idempotency window;
   * says on {@code out} whose API keys it takes.
   *
   * @throws ServiceException naming the bad setting or the port in use
   */
  public static IngestServer start(Settings settings, PrintWriter out) {
    IngestConfig config;
    ApiKeys keys;
    Topics topics;
    String bootstrap;
    try {
      config = IngestConfig.from(settings);
      keys = ApiKeys.fromEnvironment(System.getenv());
      topics = Topics.withPrefix(settings.get(IngestOptions.TOPIC_PREFIX));
      bootstrap = settings.get(IngestOptions.BOOTSTRAP_SERVERS);
    } catch (IllegalArgumentException e) {
      throw new ServiceException(e.getMessage(), e);
    }
    Map<String, Object> kafka = KafkaConnection.client(bootstrap, settings.under("kafka."));
    KafkaConnection.requireAtStart("ingest", bootstrap, kafka);
    IngestServer server;
    try {
      server = new IngestServer(config, keys, topics, kafka, Clock.systemUTC()).start();
    } catch (RuntimeException e) {
      throw new ServiceException(
          "ingest could not start on port " + config.port() + ": " + e.getMessage(), e);
    }
    try {
      if (!server.awaitReady(READY_WITHIN)) {
        out.println(
            "prefstream: ingest is still reading its idempotency window; answering 503 until done");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (keys.isLocalDefault()) {
      out.println(
          "prefstream: no "
              + ApiKeys.ENV
              + " set: tenant '"
              + ApiKeys.DEMO_TENANT
              + "' with API key '"
              + ApiKeys.DEMO_KEY
              + "' (local default)");
    } else {
      out.println("prefstream: API keys for tenants " + keys.tenants() + " from " + keys.source());
    }
    return server;
  }
}
