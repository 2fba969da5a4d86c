package io.prefstream.scorer;

import io.javalin.Javalin;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prefstream.http.ApiKeys;
import io.prefstream.http.MetricsEndpoint;
import io.prefstream.schemas.Topics;
import io.prefstream.schemas.lag.PairLagTracker;
import io.prefstream.scorer.rollout.RolloutController;
import io.prefstream.service.Service;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scorer: {@code POST /v1/score}, {@code POST /v1/rank} (best-of-N), {@code GET /v1/models},
 * {@code GET /healthz}, {@code GET /metrics}, serving each tenant's model as the rollout state on
 * {@code prefstream.rollouts} says (champion, and the candidate at its traffic share, sticky per
 * user or session), with checkpoints verified before loading and swapped without failing requests.
 * With {@code rollout.controller=1} it also offers to run the {@link RolloutController}. Create,
 * {@link #start()}, {@link #close()}.
 */
public final class ScorerServer implements Service {

  private static final Logger LOG = LoggerFactory.getLogger(ScorerServer.class);

  private final ScorerConfig config;
  private final ApiKeys keys;
  private final Topics topics;
  private MetricsEndpoint metrics;
  private ScorerRoutes routes;
  private final PrometheusMeterRegistry registry = io.prefstream.http.PrometheusRegistries.create();
  private Registry follower;
  private Serving serving;
  private KafkaProducer<String, byte[]> producer;
  private ScoreSampler sampler;
  private RolloutController controller;
  private ServingLag servingLag;
  private PairLagTracker lagTracker;
  private Javalin app;
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean closed;

  public ScorerServer(ScorerConfig config, ApiKeys keys) {
    this.config = config;
    this.keys = keys;
    this.topics = Topics.withPrefix(config.topicPrefix());
  }

  public synchronized ScorerServer start() {
    try {
      follower = new Registry(new KafkaConsumer<>(consumerConfig("registry")), topics);
      serving = new Serving(follower, new ModelLoader(config), registry);
      producer = new KafkaProducer<>(producerConfig());
      sampler = new ScoreSampler(producer, topics.scores(), config.scoreSample(), registry);
      daemon(follower, "scorer-registry");
      servingLag = new ServingLag(follower, topics.pairs().name(), registry);
      lagTracker =
          PairLagTracker.kafka(
              kafka(Map.of()), topics.pairs().name(), "prefstream-scorer-lag", servingLag::served);
      servingLag.follow(lagTracker);
      daemon(lagTracker, "scorer-serving-lag");
      if (config.controller()) {
        controller = RolloutController.kafka(config, topics, follower, serving, registry);
        daemon(controller, "rollout-controller");
      }
      registerMeters();
      app = config.listener().start(createApp());
      metrics = MetricsEndpoint.start("scorer", config.listener(), registry::scrape);
      LOG.info("scorer listening on port {} for tenants {}", port(), keys.tenants());
      return this;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Makes {@code /healthz} answer 503 naming {@code problem}'s answer while it is not null: for a
   * service of the local stack that must not look healthy while the pipeline it is part of has
   * stopped.
   */
  public void dependsOn(String name, java.util.function.Supplier<String> problem) {
    routes.dependencies().add(name, problem);
  }

  /** Waits until the registries have been read, so routing reflects every rollout decision. */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    return follower.awaitCaughtUp(timeout);
  }

  public int port() {
    return app.port();
  }

  @Override
  public String ready() {
    return "uri=" + uri() + " metrics=" + metricsUri();
  }

  public URI uri() {
    return config.listener().uri(port());
  }

  /** Where its meters are: {@code /metrics} on a listener of its own. */
  public URI metricsUri() {
    return metrics.uri();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public Serving serving() {
    return serving;
  }

  public Registry registryFollower() {
    return follower;
  }

  /** The rollout controller of this replica, if it offers to run one. */
  public RolloutController controller() {
    return controller;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (app != null) {
      app.stop();
    }
    if (metrics != null) {
      metrics.close();
    }
    if (controller != null) {
      controller.stop();
    }
    if (follower != null) {
      follower.stop();
    }
    if (lagTracker != null) {
      lagTracker.stop();
    }
    for (Thread t : threads) {
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (serving != null) {
      serving.close();
    }
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
    }
    registry.close();
  }

  private Javalin createApp() {
    QueuedThreadPool pool = new QueuedThreadPool(config.httpThreads(), 4, 60_000);
    pool.setName("scorer-http");
    return Javalin.create(
        cfg -> {
          cfg.startup.showJavalinBanner = false;
          cfg.startup.showOldJavalinVersionWarning = false;
          cfg.jetty.threadPool = pool;
          config.listener().configure(cfg);
          routes =
              new ScorerRoutes(
                  config, keys, serving, follower, sampler, controller, registry, servingLag);
          routes.install(cfg);
        });
  }

  private void registerMeters() {
    Gauge.builder("prefstream.scorer.queue.depth", this, s -> s.queueDepth())
        .description("Candidates waiting or being scored, over every served model")
        .register(registry);
    Gauge.builder("prefstream.scorer.batch.mean.size", this, s -> s.meanBatch())
        .description("Mean candidates per model call since start")
        .register(registry);
    Gauge.builder("prefstream.scorer.registry.ready", this, s -> s.follower.caughtUp() ? 1 : 0)
        .register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
  }

  private double queueDepth() {
    double depth = 0;
    for (Serving.Route r : serving.routes().values()) {
      for (ServedModel m : new ServedModel[] {r.champion(), r.candidate()}) {
        if (m != null) {
          depth += m.queueDepth();
        }
      }
    }
    return depth;
  }

  private double meanBatch() {
    double batches = 0;
    double candidates = 0;
    for (Serving.Route r : serving.routes().values()) {
      for (ServedModel m : new ServedModel[] {r.champion(), r.candidate()}) {
        if (m != null) {
          batches += m.batches();
          candidates += m.batchedCandidates();
        }
      }
    }
    return batches == 0 ? 0 : candidates / batches;
  }

  private Map<String, Object> kafka(Map<String, Object> extra) {
    Map<String, Object> map = new HashMap<>(config.kafka());
    map.put("bootstrap.servers", config.bootstrapServers());
    map.putAll(extra);
    return map;
  }

  Map<String, Object> consumerConfig(String role) {
    return kafka(
        Map.of(
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false,
            ConsumerConfig.CLIENT_ID_CONFIG,
            "prefstream-scorer-" + role,
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
            StringDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
            ByteArrayDeserializer.class));
  }

  private Map<String, Object> producerConfig() {
    return kafka(
        Map.of(
            ProducerConfig.ACKS_CONFIG,
            "1",
            ProducerConfig.LINGER_MS_CONFIG,
            20,
            ProducerConfig.COMPRESSION_TYPE_CONFIG,
            "lz4",
            ProducerConfig.MAX_BLOCK_MS_CONFIG,
            200, // a request waits at most this for metadata
            ProducerConfig.CLIENT_ID_CONFIG,
            "prefstream-scorer",
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
            StringSerializer.class,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
            ByteArraySerializer.class));
  }

  private void daemon(Runnable runnable, String name) {
    Thread thread = new Thread(runnable, name);
    thread.setDaemon(true);
    thread.start();
    threads.add(thread);
  }
}
