package io.prefstream.ingest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prefstream.config.KafkaConnection;
import io.prefstream.http.ApiKeys;
import io.prefstream.http.BearerAuth;
import io.prefstream.http.Dependencies;
import io.prefstream.http.HttpErrors;
import io.prefstream.http.MetricsEndpoint;
import io.prefstream.http.RequestError;
import io.prefstream.ingest.internal.DedupFollower;
import io.prefstream.ingest.internal.EventIdWindow;
import io.prefstream.ingest.internal.EventsAnswer;
import io.prefstream.ingest.internal.EventsHandler;
import io.prefstream.ingest.internal.FeedbackWriter;
import io.prefstream.ingest.internal.IngestMetrics;
import io.prefstream.ingest.internal.KafkaHealth;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.TopicAdmin;
import io.prefstream.schemas.Topics;
import io.prefstream.service.Service;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest service: an HTTP server ({@code POST /v1/events}, {@code GET /healthz}, {@code GET
 * /metrics}, {@code GET /openapi.json}) in front of an idempotent Kafka producer, with the
 * idempotency window kept current from the feedback topic. Create, {@link #start()}, {@link
 * #close()}.
 */
public final class IngestServer implements Service {

  private static final Logger LOG = LoggerFactory.getLogger(IngestServer.class);
  private static final String OPENAPI = "/io/prefstream/ingest/openapi.json";

  /** The states of the service; see {@link #state()}. */
  public enum State {
    CREATED,
    RUNNING,
    CLOSED
  }

  private final IngestConfig config;
  private final ApiKeys keys;
  private final Topics topics;
  private final Map<String, Object> kafka;
  private final Clock clock;
  private final PrometheusMeterRegistry registry = io.prefstream.http.PrometheusRegistries.create();

  private volatile State state = State.CREATED;
  private KafkaProducer<byte[], byte[]> producer;
  private Admin admin;
  private KafkaHealth health;
  private DedupFollower follower;
  private EventIdWindow window;
  private FeedbackWriter writer;
  private MetricsEndpoint metrics;
  private final Dependencies dependencies = new Dependencies();
  private Javalin app;
  private KafkaClientMetrics producerMetrics;
  private final byte[] openApi;

  /**
   * @param kafka Kafka client settings shared by the producer, consumer and admin; at least {@code
   *     bootstrap.servers}
   */
  public IngestServer(
      IngestConfig config, ApiKeys keys, Topics topics, Map<String, Object> kafka, Clock clock) {
    if (!kafka.containsKey("bootstrap.servers")) {
      throw new IllegalArgumentException(
          "kafka settings need bootstrap.servers, got " + kafka.keySet());
    }
    this.config = config;
    this.keys = keys;
    this.topics = topics;
    this.kafka = Map.copyOf(kafka);
    this.clock = clock;
    try (InputStream in = IngestServer.class.getResourceAsStream(OPENAPI)) {
      this.openApi = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("the jar lacks " + OPENAPI, e);
    }
  }

  /**
   * Checks the topics, starts the producer, the follower that fills the idempotency window, and the
   * HTTP server. Events are answered 503 until the window is read; see {@link #awaitReady}.
   */
  public synchronized IngestServer start() {
    if (state != State.CREATED) {
      throw new IllegalStateException(
          "Can only start in CREATED state. Current state is: " + state);
    }
    state = State.RUNNING;
    try {
      admin = Admin.create(clientConfig(Map.of()));
      checkTopics();
      producer = new KafkaProducer<>(producerConfig());
      writer = new FeedbackWriter(producer, config.maxInFlightBytes());
      health = new KafkaHealth(admin, Duration.ofSeconds(1), Duration.ofSeconds(2));
      window = new EventIdWindow(config.dedupWindow(), config.dedupMaxEntries(), clock);
      follower =
          new DedupFollower(
              new KafkaConsumer<>(consumerConfig()),
              topics.feedback(),
              window,
              config.dedupWindow(),
              clock);
      registerMeters();
      daemon(health, "ingest-kafka-health").start();
      daemon(follower, "ingest-dedup-follower").start();
      app = config.listener().start(createApp());
      metrics = MetricsEndpoint.start("ingest", config.listener(), registry::scrape);
      LOG.info("ingest listening on port {} for tenants {}", port(), keys.tenants());
      return this;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Waits until the idempotency window has been read from the topic. */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    return follower.awaitCaughtUp(timeout);
  }

  public int port() {
    requireRunning();
    return app.port();
  }

  /** The base URI, e.g. {@code http://localhost:8080}. */
  @Override
  public String ready() {
    return "uri=" + uri() + " metrics=" + metricsUri();
  }

  public URI uri() {
    return config.listener().uri(port());
  }

  /** Where its meters are: {@code /metrics} on a listener of its own. */
  public URI metricsUri() {
    requireRunning();
    return metrics.uri();
  }

  public State state() {
    return state;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  @Override
  public synchronized void close() {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    if (app != null) {
      app.stop();
    }
    if (metrics != null) {
      metrics.close();
    }
    if (follower != null) {
      follower.stop();
    }
    if (health != null) {
      health.stop();
    }
    if (producerMetrics != null) {
      producerMetrics.close();
    }
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
    }
    if (admin != null) {
      admin.close(Duration.ofSeconds(1));
    }
    registry.close();
  }

  private Javalin createApp() {
    IngestMetrics metrics = new IngestMetrics(registry);
    EventsHandler events =
        new EventsHandler(
            config,
            keys,
            topics,
            window,
            writer,
            health,
            () -> follower.caughtUp(),
            metrics,
            clock);
    QueuedThreadPool threads = new QueuedThreadPool(config.httpThreads(), 4, 60_000);
    threads.setName("ingest-http");
    return Javalin.create(
        cfg -> {
          cfg.startup.showJavalinBanner = false;
          cfg.startup.showOldJavalinVersionWarning = false;
          cfg.jetty.threadPool = threads;
          config.listener().configure(cfg);
          cfg.routes.post("/v1/events", ctx -> postEvents(ctx, events, metrics));
          cfg.routes.get("/healthz", this::health);
          cfg.routes.get(
              "/openapi.json", ctx -> ctx.contentType("application/json").result(openApi));
          HttpErrors.install(cfg, "ingest", LOG);
        });
  }

  private void postEvents(Context ctx, EventsHandler events, IngestMetrics metrics)
      throws InterruptedException {
    long start = System.nanoTime();
    int status;
    try {
      EventsAnswer answer =
          events.handle(
              BearerAuth.header(ctx),
              ctx.header("Content-Type"),
              ctx.header("Content-Encoding"),
              ctx.req().getContentLengthLong(),
              ctx.bodyInputStream());
      status = answer.status();
      if (answer.retryAfterSeconds() > 0) {
        ctx.header("Retry-After", Long.toString(answer.retryAfterSeconds()));
      }
      ctx.status(status).contentType("application/json").result(HttpErrors.json(answer.body()));
    } catch (RequestError e) {
      status = e.status();
      drain(ctx);
      HttpErrors.answer(ctx, e);
    }
    metrics.request(status, System.nanoTime() - start);
  }

  /**
   * Reads what is left of a refused request's body (up to the body limit), so that the client,
   * still sending, gets the answer instead of a reset connection.
   */
  private void drain(Context ctx) {
    try {
      InputStream in = ctx.bodyInputStream();
      long left = config.maxBodyBytes();
      byte[] buffer = new byte[8192];
      int n;
      while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) > 0) {
        left -= n;
      }
    } catch (IOException | RuntimeException e) {
      // The connection is gone or the body is larger than the limit: nothing more to do.
    }
  }

  /**
   * Makes {@code /healthz} answer 503 naming {@code problem}'s answer while it is not null: for a
   * service of the local stack that must not look healthy while the pipeline it is part of has
   * stopped.
   */
  public void dependsOn(String name, java.util.function.Supplier<String> problem) {
    dependencies.add(name, problem);
  }

  private void health(Context ctx) {
    ObjectNode body = JsonForm.mapper().createObjectNode();
    String kafkaProblem = health.problem();
    String followerProblem = follower.problem();
    boolean dependenciesOk = dependencies.report(body);
    boolean ok =
        follower.caughtUp() && kafkaProblem == null && followerProblem == null && dependenciesOk;
    body.put("status", ok ? "ok" : follower.caughtUp() ? "degraded" : "starting");
    body.put("kafka", kafkaProblem == null ? "ok" : kafkaProblem);
    ObjectNode dedup = body.putObject("dedup");
    dedup.put("caught_up", follower.caughtUp());
    dedup.put("entries", window.size());
    dedup.put("records_read", follower.recordsRead());
    if (followerProblem != null) {
      dedup.put("problem", followerProblem);
    }
    body.put("in_flight_bytes", writer.inFlightBytes());
    ctx.status(ok ? 200 : 503).contentType("application/json").result(HttpErrors.json(body));
  }

  private void checkTopics() {
    List<Topic<?>> needed = List.of(topics.feedback(), topics.feedbackDlq());
    List<String> problems;
    try {
      problems = new TopicAdmin(admin, Duration.ofSeconds(30)).check(needed);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checking topics", e);
    } catch (Exception e) {
      throw new IllegalStateException(KafkaConnection.explain(kafka, e), e);
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException(
          "ingest needs its topics: "
              + problems
              + " (create them with 'prefstream topics --create')");
    }
  }

  private void registerMeters() {
    Gauge.builder("prefstream.ingest.dedup.entries", window, EventIdWindow::size)
        .description("Event ids remembered in the idempotency window")
        .register(registry);
    Gauge.builder("prefstream.ingest.dedup.evicted.early", window, EventIdWindow::evictedEarly)
        .description("Ids forgotten before the window ended (dedup-max-entries reached)")
        .register(registry);
    Gauge.builder("prefstream.ingest.in.flight.bytes", writer, FeedbackWriter::inFlightBytes)
        .description("Encoded bytes awaiting the broker's acknowledgement")
        .register(registry);
    Gauge.builder("prefstream.ingest.kafka.up", this, s -> s.health.problem() == null ? 1 : 0)
        .description("1 while the broker answers")
        .register(registry);
    producerMetrics = new KafkaClientMetrics(producer);
    producerMetrics.bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
  }

  private Map<String, Object> clientConfig(Map<String, Object> extra) {
    Map<String, Object> map = new HashMap<>(kafka);
    map.putAll(extra);
    return map;
  }

  private Map<String, Object> producerConfig() {
    long ackMillis = config.ackTimeout().toMillis();
    return clientConfig(
        Map.ofEntries(
            Map.entry(ProducerConfig.ACKS_CONFIG, "all"),
            Map.entry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true),
            Map.entry(ProducerConfig.LINGER_MS_CONFIG, 5),
            Map.entry(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024),
            Map.entry(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"),
            Map.entry(ProducerConfig.MAX_BLOCK_MS_CONFIG, ackMillis),
            Map.entry(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000),
            Map.entry(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000),
            Map.entry(
                ProducerConfig.BUFFER_MEMORY_CONFIG,
                Math.max(64L * 1024 * 1024, 2 * config.maxInFlightBytes())),
            Map.entry(ProducerConfig.CLIENT_ID_CONFIG, "prefstream-ingest"),
            Map.entry(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class),
            Map.entry(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class)));
  }

  private Map<String, Object> consumerConfig() {
    return clientConfig(
        Map.of(
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false,
            ConsumerConfig.CLIENT_ID_CONFIG,
            "prefstream-ingest-dedup",
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
            ByteArrayDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
            ByteArrayDeserializer.class));
  }

  private static Thread daemon(Runnable runnable, String name) {
    Thread thread = new Thread(runnable, name);
    thread.setDaemon(true);
    return thread;
  }

  private void requireRunning() {
    if (state != State.RUNNING) {
      throw new IllegalStateException("Ingest is not running. Current state is: " + state);
    }
  }
}
