package io.prefstream.scorer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prefstream.avro.Arm;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.RolloutState;
import io.prefstream.http.BearerAuth;
import io.prefstream.http.Bodies;
import io.prefstream.http.HttpErrors;
import io.prefstream.http.RequestError;
import io.prefstream.ingest.ApiKeys;
import io.prefstream.model.Candidate;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topics;
import io.prefstream.scorer.rollout.RolloutController;
import io.prefstream.service.Service;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
  private static final JsonForm<RolloutState> ROLLOUT_JSON = JsonForm.of(RolloutState.class);

  private final ScorerConfig config;
  private final ApiKeys keys;
  private final Topics topics;
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private Registry follower;
  private Serving serving;
  private KafkaProducer<String, byte[]> producer;
  private ScoreSampler sampler;
  private RolloutController controller;
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
      if (config.controller()) {
        controller = RolloutController.kafka(config, topics, follower, serving, registry);
        daemon(controller, "rollout-controller");
      }
      registerMeters();
      app = createApp().start(config.host(), config.port());
      LOG.info("scorer listening on port {} for tenants {}", port(), keys.tenants());
      return this;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
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
    return "uri=" + uri();
  }

  public URI uri() {
    return URI.create("http://localhost:" + port());
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
    if (controller != null) {
      controller.stop();
    }
    if (follower != null) {
      follower.stop();
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
          cfg.routes.post("/v1/score", ctx -> handle(ctx, "score", false));
          cfg.routes.post("/v1/rank", ctx -> handle(ctx, "rank", true));
          cfg.routes.get("/v1/models", this::models);
          cfg.routes.get("/healthz", this::health);
          cfg.routes.get(
              "/metrics",
              ctx ->
                  ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                      .result(registry.scrape()));
          HttpErrors.install(cfg, "scorer", LOG);
        });
  }

  private void handle(Context ctx, String endpoint, boolean rank) {
    long start = System.nanoTime();
    int status;
    try {
      ObjectNode body = score(ctx, rank);
      status = 200;
      ctx.status(200).contentType("application/json").result(HttpErrors.json(body));
    } catch (RequestError e) {
      status = e.status();
      HttpErrors.answer(ctx, e);
    }
    Timer.builder("prefstream.scorer.requests")
        .tag("endpoint", endpoint)
        .tag("status", Integer.toString(status))
        .publishPercentileHistogram()
        .register(registry)
        .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
  }

  private ObjectNode score(Context ctx, boolean rank) {
    String tenant = tenantOf(ctx.header("Authorization"));
    String contentType = ctx.header("Content-Type");
    if (contentType != null && !contentType.toLowerCase().startsWith("application/json")) {
      throw new RequestError(
          415,
          "unsupported_media_type",
          "Content-Type",
          "expected application/json, got " + contentType);
    }
    ScoreRequest request = ScoreRequest.parse(body(ctx), config);
    String modelName = request.model() != null ? request.model() : config.modelName();
    String key = Registry.key(config.modelTenant(tenant), modelName);
    List<Candidate> candidates = new ArrayList<>(request.responses().size());
    for (String r : request.responses()) {
      candidates.add(new Candidate(request.prompt(), r));
    }
    for (int attempt = 0; ; attempt++) {
      Serving.Route route = serving.route(key);
      if (route == null || route.champion() == null) {
        throw noModel(key, modelName, tenant);
      }
      String who = request.stickyKey();
      double weight = route.candidateWeight();
      boolean toCandidate =
          who != null
              ? Serving.toCandidate(key, who, weight)
              : ThreadLocalRandom.current().nextDouble() < weight;
      ServedModel model = toCandidate ? route.candidate() : route.champion();
      Arm arm = toCandidate ? Arm.CANDIDATE : Arm.CHAMPION;
      if (!model.acquire()) {
        if (attempt < 5) {
          continue; // swapped out this instant: take the new route
        }
        throw new RequestError(503, "swapping", null, "the model is being swapped; retry", 1);
      }
      float[] raw;
      try {
        raw = await(model, candidates);
      } finally {
        model.release();
      }
      if (route.shadow()) {
        shadow(route.candidate(), request, candidates);
      }
      double[] scores = normalise(model, raw);
      sampler.sample(
          model, arm, request.prompt(), request.responses(), raw, scores, request.requestId());
      return answer(model, arm, request, scores, rank);
    }
  }

  private float[] await(ServedModel model, List<Candidate> candidates) {
    CompletableFuture<float[]> scored = null;
    try {
      scored = model.score(candidates);
      return scored.get(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (ScoringQueue.Overloaded e) {
      registry.counter("prefstream.scorer.overloaded").increment();
      throw new RequestError(429, "overloaded", null, e.getMessage() + "; retry shortly", 1);
    } catch (TimeoutException e) {
      // Nobody waits for it any more: a queued job is dropped unscored, so an overloaded slow
      // model does not spend itself on answers that can no longer be given.
      scored.cancel(false);
      registry.counter("prefstream.scorer.timeouts").increment();
      throw new RequestError(
          503,
          "timeout",
          null,
          "not scored within " + config.requestTimeout().toMillis() + " ms; retry",
          1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RequestError(503, "interrupted", null, "the scorer is stopping", 1);
    } catch (ExecutionException e) {
      LOG.error("scoring failed", e.getCause());
      throw new RequestError(500, "internal", null, "scoring failed; see the scorer log");
    }
  }

  /** Scores the shadow candidate too, without waiting and only where its queue has room. */
  private void shadow(ServedModel candidate, ScoreRequest request, List<Candidate> candidates) {
    if (candidate == null || !candidate.acquire()) {
      return;
    }
    try {
      candidate
          .score(candidates)
          .whenComplete(
              (raw, error) -> {
                candidate.release();
                if (error == null) {
                  sampler.sample(
                      candidate,
                      Arm.SHADOW,
                      request.prompt(),
                      request.responses(),
                      raw,
                      normalise(candidate, raw),
                      request.requestId());
                }
              });
    } catch (RuntimeException e) {
      candidate.release(); // full: shadow scoring is best-effort
    }
  }

  private static double[] normalise(ServedModel model, float[] raw) {
    double[] out = new double[raw.length];
    for (int i = 0; i < raw.length; i++) {
      out[i] = model.normaliser().apply(raw[i]);
    }
    return out;
  }

  private ObjectNode answer(
      ServedModel model, Arm arm, ScoreRequest request, double[] scores, boolean rank) {
    ObjectNode body = JsonForm.mapper().createObjectNode();
    body.put("model", model.checkpoint().getModel());
    body.put("version", model.version());
    body.put("arm", arm.name().toLowerCase());
    if (request.requestId() != null) {
      body.put("request_id", request.requestId());
    }
    if (!rank) {
      ArrayNode array = body.putArray("scores");
      for (double s : scores) {
        array.add(round(s));
      }
      return body;
    }
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < scores.length; i++) {
      order.add(i);
    }
    order.sort(
        Comparator.comparingDouble((Integer i) -> scores[i]).reversed().thenComparing(i -> i));
    body.put("best", order.get(0));
    ArrayNode ranking = body.putArray("ranking");
    for (int i : order) {
      ObjectNode item = ranking.addObject();
      item.put("index", i);
      item.put("score", round(scores[i]));
      item.put("response", request.responses().get(i));
    }
    return body;
  }

  private static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1e6) / 1e6 : 0;
  }

  private RequestError noModel(String key, String modelName, String tenant) {
    var versions = follower.checkpoints(key);
    String why;
    if (!follower.caughtUp()) {
      why = "the scorer is still reading the model registry";
    } else if (versions.isEmpty()) {
      why = "no checkpoint of model '" + modelName + "' has been published for tenant " + tenant;
    } else if (follower.rollout(key) == null) {
      why = "no version has been promoted yet (the rollout controller decides)";
    } else {
      why = "the champion is loading or was refused: " + serving.refused();
    }
    return new RequestError(
        versions.isEmpty() && follower.caughtUp() ? 404 : 503,
        "no_model",
        "model",
        why,
        versions.isEmpty() ? 0 : 1);
  }

  private byte[] body(Context ctx) {
    long limit = (long) config.maxChars() * 4 * (config.maxResponses() + 1) + 64 * 1024;
    try (InputStream in = ctx.bodyInputStream()) {
      return Bodies.readBounded(
          in,
          -1,
          limit,
          size ->
              new RequestError(
                  413, "too_large", null, "the body is larger than " + limit + " bytes"),
          e -> new RequestError(400, "unreadable", null, "could not read the body: " + e));
    } catch (IOException e) {
      throw new RequestError(400, "unreadable", null, "could not read the body: " + e);
    }
  }

  private String tenantOf(String authorization) {
    return BearerAuth.tenantOf(authorization, keys::tenantOf);
  }

  private void models(Context ctx) {
    String tenant;
    try {
      tenant = tenantOf(ctx.header("Authorization"));
    } catch (RequestError e) {
      HttpErrors.answer(ctx, e);
      return;
    }
    String modelTenant = config.modelTenant(tenant);
    ObjectNode body = JsonForm.mapper().createObjectNode();
    body.put("tenant", tenant);
    ArrayNode list = body.putArray("models");
    Map<String, Object> keysSeen = new TreeMap<>();
    for (String key : follower.models()) {
      keysSeen.put(key, null);
    }
    follower.rollouts().keySet().forEach(k -> keysSeen.put(k, null));
    for (String key : keysSeen.keySet()) {
      if (!key.startsWith(modelTenant + "/")) {
        continue;
      }
      ObjectNode m = list.addObject();
      m.put("model", key.substring(modelTenant.length() + 1));
      RolloutState state = follower.rollout(key);
      Serving.Route route = serving.route(key);
      var versions = follower.checkpoints(key);
      m.put("versions", versions.size());
      m.put("latest_version", versions.isEmpty() ? 0 : versions.lastKey());
      if (state == null) {
        m.put("phase", "NONE");
        continue;
      }
      m.put("phase", state.getPhase().name());
      m.set("champion", version(key, state.getChampionVersion(), route, true));
      m.set("candidate", version(key, state.getCandidateVersion(), route, false));
      m.put("candidate_weight", state.getCandidateWeight());
      m.put("step", state.getStep());
      m.putPOJO("steps", config.rollout().steps());
      m.set("history", ROLLOUT_JSON.toJson(state).get("history"));
      m.put("updated_at", state.getUpdatedAt().toString());
    }
    ctx.status(200).contentType("application/json").result(HttpErrors.json(body));
  }

  private ObjectNode version(String key, Long version, Serving.Route route, boolean champion) {
    if (version == null) {
      return null;
    }
    ObjectNode v = JsonForm.mapper().createObjectNode();
    v.put("version", version);
    CheckpointPublished c = follower.checkpoint(key, version);
    if (c != null) {
      v.put("model_type", c.getModelType());
      v.put("published_at", c.getPublishedAt().toString());
      v.putPOJO("metrics", new TreeMap<>(c.getMetrics()));
      v.put("pairs_seen", c.getPairsSeen());
    }
    ServedModel served = route == null ? null : champion ? route.champion() : route.candidate();
    v.put("loaded", served != null && served.version() == version);
    String refusal = serving.refused().get(key + "/v" + version);
    if (refusal != null) {
      v.put("refused", refusal);
    }
    return v;
  }

  private void health(Context ctx) {
    ObjectNode body = JsonForm.mapper().createObjectNode();
    boolean ready = follower.caughtUp();
    String problem = follower.problem();
    boolean ok = ready && problem == null;
    body.put("status", ok ? "ok" : ready ? "degraded" : "starting");
    body.put("registry", problem == null ? (ready ? "ok" : "reading") : problem);
    ObjectNode served = body.putObject("serving");
    for (var e : new TreeMap<>(serving.routes()).entrySet()) {
      Serving.Route r = e.getValue();
      ObjectNode m = served.putObject(e.getKey());
      m.put("champion", r.champion() == null ? null : r.champion().version());
      m.put("candidate", r.candidate() == null ? null : r.candidate().version());
      m.put("phase", r.state().getPhase().name());
      m.put("candidate_weight", r.candidateWeight());
    }
    body.putPOJO("refused", new TreeMap<>(serving.refused()));
    if (controller != null) {
      body.put("controller", controller.active() ? "active" : "standby");
    }
    ctx.status(ok ? 200 : 503).contentType("application/json").result(HttpErrors.json(body));
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
