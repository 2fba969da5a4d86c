package io.prefstream.scorer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prefstream.avro.Arm;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.RolloutState;
import io.prefstream.http.ApiKeys;
import io.prefstream.http.BearerAuth;
import io.prefstream.http.Bodies;
import io.prefstream.http.Caller;
import io.prefstream.http.Dependencies;
import io.prefstream.http.HttpErrors;
import io.prefstream.http.Quotas;
import io.prefstream.http.RequestError;
import io.prefstream.model.Candidate;
import io.prefstream.schemas.JsonForm;
import io.prefstream.scorer.rollout.RolloutController;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scorer's HTTP side: {@code POST /v1/score} and {@code /v1/rank} (scored in the model's
 * batching queue, shadowed by a candidate in shadow, sampled to {@code prefstream.scores}), {@code
 * GET /v1/models}, {@code /healthz} and {@code /metrics}, and the JSON answers to what no route
 * takes. {@link ScorerServer} owns the lifecycle (Kafka clients, the registry follower, the rollout
 * controller, the server) and hands this its parts.
 */
final class ScorerRoutes {

  private static final Logger LOG = LoggerFactory.getLogger(ScorerRoutes.class);
  private static final JsonForm<RolloutState> ROLLOUT_JSON = JsonForm.of(RolloutState.class);

  private final Dependencies dependencies = new Dependencies();
  private final Quotas quotas;
  private final ScorerConfig config;
  private final ApiKeys keys;
  private final Serving serving;
  private final Registry follower;
  private final ScoreSampler sampler;
  private final RolloutController controller;
  private final PrometheusMeterRegistry registry;
  private final ServingLag lag;

  /**
   * @param controller this replica's rollout controller, or null when it offers to run none
   */
  ScorerRoutes(
      ScorerConfig config,
      ApiKeys keys,
      Serving serving,
      Registry follower,
      ScoreSampler sampler,
      RolloutController controller,
      PrometheusMeterRegistry registry,
      ServingLag lag) {
    this.lag = lag;
    this.config = config;
    this.keys = keys;
    this.serving = serving;
    this.follower = follower;
    this.sampler = sampler;
    this.controller = controller;
    this.registry = registry;
    this.quotas = config.newQuotas(System::nanoTime);
  }

  /** What {@code /healthz} also rests on (see {@link ScorerServer#dependsOn}). */
  Dependencies dependencies() {
    return dependencies;
  }

  /** Adds the routes and the error answers to a server's configuration. */
  void install(JavalinConfig cfg) {
    cfg.routes.post("/v1/score", ctx -> handle(ctx, "score", false));
    cfg.routes.post("/v1/rank", ctx -> handle(ctx, "rank", true));
    cfg.routes.get("/v1/models", this::models);
    cfg.routes.get("/healthz", this::health);
    HttpErrors.install(cfg, "scorer", LOG);
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
    String tenant = tenantOf(BearerAuth.header(ctx));
    String contentType = ctx.header("Content-Type");
    if (contentType != null && !contentType.toLowerCase().startsWith("application/json")) {
      throw new RequestError(
          415,
          "unsupported_media_type",
          "Content-Type",
          "expected application/json, got " + contentType);
    }
    ScoreRequest request = ScoreRequest.parse(body(ctx), config);
    // The tenant's quota of candidates, before any model time is spent on them.
    int n = request.responses().size();
    Quotas.Decision quota = quotas.take(tenant, n);
    if (!quota.granted()) {
      registry.counter("prefstream.scorer.throttled", "tenant", tenant).increment();
      throw quota.refusal(tenant, "responses");
    }
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
      String prefix = key + "/v";
      why =
          "the champion is loading or was refused: "
              + new TreeMap<>(
                  serving.refused().entrySet().stream()
                      .filter(e -> e.getKey().startsWith(prefix))
                      .collect(
                          java.util.stream.Collectors.toMap(
                              Map.Entry::getKey, Map.Entry::getValue)));
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
    return BearerAuth.tenantOf(authorization, keys);
  }

  /**
   * {@code GET /v1/models}: the caller's models (a tenant's key: its own, or the shared tenant's it
   * is served; an operator's: every tenant's), each with its rollout, the versions served now and
   * the versions refused with why.
   */
  private void models(Context ctx) {
    Caller caller;
    try {
      caller = BearerAuth.callerOf(BearerAuth.header(ctx), keys);
    } catch (RequestError e) {
      HttpErrors.answer(ctx, e);
      return;
    }
    String modelTenant = caller.operator() ? null : config.modelTenant(caller.tenant());
    ObjectNode body = JsonForm.mapper().createObjectNode();
    body.put("tenant", caller.operator() ? null : caller.tenant());
    ArrayNode list = body.putArray("models");
    Map<String, Object> keysSeen = new TreeMap<>();
    for (String key : follower.models()) {
      keysSeen.put(key, null);
    }
    follower.rollouts().keySet().forEach(k -> keysSeen.put(k, null));
    Map<String, String> refused = serving.refused();
    for (String key : keysSeen.keySet()) {
      if (modelTenant != null && !key.startsWith(modelTenant + "/")) {
        continue;
      }
      ObjectNode m = list.addObject();
      if (caller.operator()) {
        m.put("tenant", key.substring(0, key.indexOf('/')));
      }
      m.put("model", key.substring(key.indexOf('/') + 1));
      RolloutState state = follower.rollout(key);
      Serving.Route route = serving.route(key);
      var versions = follower.checkpoints(key);
      m.put("versions", versions.size());
      m.put("latest_version", versions.isEmpty() ? 0 : versions.lastKey());
      ObjectNode served = m.putObject("serving");
      served.put(
          "champion",
          route == null || route.champion() == null ? null : route.champion().version());
      served.put(
          "candidate",
          route == null || route.candidate() == null ? null : route.candidate().version());
      ObjectNode refusals = m.putObject("refused");
      refused.forEach(
          (version, why) -> {
            if (version.startsWith(key + "/v")) {
              refusals.put(version.substring(key.length() + 1), why);
            }
          });
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
    var behind = lag == null ? null : lag.lag(key, version);
    if (behind != null) {
      ObjectNode l = v.putObject("lag");
      l.put("pairs", behind.pairs());
      l.put("seconds", behind.seconds());
    }
    String refusal = serving.refused().get(key + "/v" + version);
    if (refusal != null) {
      v.put("refused", refusal);
    }
    return v;
  }

  /**
   * {@code GET /healthz}, open to probes and naming no tenant: ready (200) once the registries are
   * read and every promoted champion is being served or was refused (a refused one leaves its
   * tenant on the previous champion, or without one, which {@code /v1/models} tells the tenant);
   * 503 while any champion is still loading, so a replica takes traffic only when it can answer.
   */
  private void health(Context ctx) {
    ObjectNode body = JsonForm.mapper().createObjectNode();
    boolean ready = follower.caughtUp();
    String problem = follower.problem();
    Map<String, Long> champions = new TreeMap<>();
    Map<String, Long> served = new TreeMap<>();
    for (String key : follower.rollouts().keySet()) {
      RolloutState state = follower.rollout(key);
      champions.put(key, state == null ? null : state.getChampionVersion());
      Serving.Route route = this.serving.route(key);
      served.put(
          key, route == null || route.champion() == null ? null : route.champion().version());
    }
    Map<String, String> refused = this.serving.refused();
    Champions c = Champions.of(champions, served, refused.keySet());
    int loading = c.loading();
    boolean dependenciesOk = dependencies.report(body);
    boolean ok = ready && problem == null && loading == 0 && dependenciesOk;
    body.put(
        "status",
        !ready
            ? "starting"
            : problem != null || !dependenciesOk ? "degraded" : loading > 0 ? "loading" : "ok");
    body.put("registry", problem == null ? (ready ? "ok" : "reading") : problem);
    ObjectNode counts = body.putObject("champions");
    counts.put("serving", c.serving());
    counts.put("loading", c.loading());
    counts.put("refused", c.refused());
    counts.put("not_yet_promoted", c.unpromoted());
    body.put("versions_refused", refused.size());
    if (controller != null) {
      body.put("controller", controller.active() ? "active" : "standby");
    }
    ctx.status(ok ? 200 : 503).contentType("application/json").result(HttpErrors.json(body));
  }

  /**
   * How the promoted champions stand, counted for {@code /healthz}: serving (some champion serves
   * the model, the promoted one or the one before it while it loads), loading, refused (failed
   * verification: its tenant stays on the champion before it, or none), and models whose rollout
   * has promoted nothing yet.
   */
  record Champions(int serving, int loading, int refused, int unpromoted) {

    /**
     * @param champions each model's promoted champion version (null: none yet)
     * @param served the champion version serving each model now (null: none)
     * @param refused refused versions, as {@code tenant/model/vN}
     */
    static Champions of(
        Map<String, Long> champions, Map<String, Long> served, java.util.Set<String> refused) {
      int serving = 0;
      int loading = 0;
      int refusedChampions = 0;
      int unpromoted = 0;
      for (Map.Entry<String, Long> e : champions.entrySet()) {
        if (e.getValue() == null) {
          unpromoted++;
        } else if (served.get(e.getKey()) != null) {
          serving++;
        } else if (refused.contains(e.getKey() + "/v" + e.getValue())) {
          refusedChampions++;
        } else {
          loading++;
        }
      }
      return new Champions(serving, loading, refusedChampions, unpromoted);
    }
  }
}
