package io.prefstream.monitor;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prefstream.avro.AlertLevel;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.DriftReport;
import io.prefstream.avro.RolloutState;
import io.prefstream.http.ApiKeys;
import io.prefstream.http.BearerAuth;
import io.prefstream.http.Caller;
import io.prefstream.http.Dependencies;
import io.prefstream.http.HttpErrors;
import io.prefstream.http.MetricsEndpoint;
import io.prefstream.http.RequestError;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topics;
import io.prefstream.schemas.lag.PairLag;
import io.prefstream.schemas.lag.PairLagTracker;
import io.prefstream.service.Service;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drift monitor as a service: the {@link MonitorTopology} in a Kafka Streams application,
 * {@code GET /v1/drift} (the latest report of every tenant/model/metric, by interactive query),
 * {@code GET /v1/alerts} (those at WARN or ALERT), {@code GET /metrics} (every figure and level as
 * a Prometheus gauge) and {@code GET /healthz}. Create, {@link #start()}, {@link #close()}.
 */
public final class MonitorServer implements Service {

  private static final Logger LOG = LoggerFactory.getLogger(MonitorServer.class);
  private static final JsonForm<DriftReport> JSON = JsonForm.of(DriftReport.class);

  /** The Chart.js WebJar's version, as in the parent pom. */
  static final String CHART_JS = "4.5.1";

  private final MonitorConfig config;
  private final Topics topics;
  private final PrometheusMeterRegistry registry = io.prefstream.http.PrometheusRegistries.create();
  private final Map<String, DriftReport> latest = new ConcurrentHashMap<>();
  private final ScheduledExecutorService refresher =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "monitor-metrics");
            t.setDaemon(true);
            return t;
          });
  private final MonitorTopology topology;
  private final Dashboard dashboard;
  private KafkaStreams streams;
  private PairLagTracker lagTracker;
  private Javalin app;
  private MetricsEndpoint metrics;
  private final Dependencies dependencies = new Dependencies();

  private final ApiKeys keys;
  private final Staleness staleness;

  /**
   * @param keys whose keys may read: a tenant's key sees only that tenant's figures, an operator's
   *     ({@code *=KEY}) every tenant's
   */
  public MonitorServer(MonitorConfig config, ApiKeys keys) {
    this.config = config;
    this.keys = keys;
    this.staleness = new Staleness(config.staleAfter());
    this.topics = Topics.withPrefix(config.topicPrefix());
    this.topology = new MonitorTopology(config, registry);
    this.dashboard = new Dashboard(registry, topology.arms());
  }

  public synchronized MonitorServer start() {
    streams =
        new KafkaStreams(
            topology.buildTopology(new StreamsBuilder()), MonitorTopology.streamsConfig(config));
    streams.setUncaughtExceptionHandler(
        e -> {
          LOG.error("drift monitor stream thread failed; replacing it", e);
          return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
              .StreamThreadExceptionResponse.REPLACE_THREAD;
        });
    streams.start();
    Map<String, Object> client = new java.util.HashMap<>(config.kafka());
    client.put("bootstrap.servers", config.bootstrapServers());
    lagTracker =
        PairLagTracker.kafka(
            client, topics.pairs().name(), "prefstream-monitor-lag", () -> served().values());
    Thread lagThread = new Thread(lagTracker, "monitor-serving-lag");
    lagThread.setDaemon(true);
    lagThread.start();
    refresher.scheduleWithFixedDelay(this::refresh, 1, 2, TimeUnit.SECONDS);
    refresher.scheduleWithFixedDelay(
        () -> dashboard.sample(System.currentTimeMillis()), 0, 2, TimeUnit.SECONDS);
    app =
        Javalin.create(
            cfg -> {
              cfg.startup.showJavalinBanner = false;
              cfg.startup.showOldJavalinVersionWarning = false;
              config.listener().configure(cfg);
              // Chart.js from its WebJar, read as a classpath resource: the jar has no
              // directory entries, which Javalin's webjar support needs.
              cfg.routes.get(
                  "/webjars/chart.js/" + CHART_JS + "/dist/chart.umd.min.js", this::chartJs);
              cfg.staticFiles.add("/io/prefstream/monitor/dashboard", Location.CLASSPATH);
              cfg.routes.get("/v1/dashboard", this::dashboard);
              cfg.routes.get("/v1/drift", ctx -> reports(ctx, false));
              cfg.routes.get("/v1/alerts", ctx -> reports(ctx, true));
              cfg.routes.get("/healthz", this::health);
              HttpErrors.install(cfg, "monitor", LOG);
            });
    config.listener().start(app);
    metrics = MetricsEndpoint.start("monitor", config.listener(), registry::scrape);
    LOG.info("drift monitor on port {}, windows of {}", app.port(), config.window());
    return this;
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

  public KafkaStreams.State state() {
    return streams.state();
  }

  /** The latest report of every tenant/model/metric, read from the state store. */
  public List<DriftReport> latest() {
    refresh();
    List<DriftReport> list = new ArrayList<>(latest.values());
    list.sort(
        Comparator.comparing(DriftReport::getTenantId)
            .thenComparing(DriftReport::getModel)
            .thenComparing(DriftReport::getMetric));
    return list;
  }

  /** The latest reports that are not stale. */
  private List<DriftReport> current() {
    long now = System.currentTimeMillis();
    return latest().stream().filter(r -> !staleness.stale(key(r), now)).toList();
  }

  private static String key(DriftReport r) {
    return MonitorTopology.key(r);
  }

  private synchronized void refresh() {
    if (streams == null || streams.state() != KafkaStreams.State.RUNNING) {
      return;
    }
    try {
      ReadOnlyKeyValueStore<String, DriftReport> store =
          streams.store(
              StoreQueryParameters.fromNameAndType(
                  MonitorTopology.LATEST, QueryableStoreTypes.keyValueStore()));
      try (KeyValueIterator<String, DriftReport> it = store.all()) {
        long now = System.currentTimeMillis();
        while (it.hasNext()) {
          var kv = it.next();
          staleness.saw(kv.key, kv.value, now);
          if (latest.put(kv.key, kv.value) == null) {
            register(kv.key, kv.value);
          }
        }
      }
    } catch (RuntimeException e) {
      LOG.debug("drift store not queryable yet: {}", e.getMessage());
    }
  }

  private void register(String key, DriftReport first) {
    Tags tags =
        Tags.of(
            "tenant", first.getTenantId(), "model", first.getModel(), "metric", first.getMetric());
    Gauge.builder("prefstream.drift.value", latest, m -> value(m.get(key)))
        .description("Latest value of a drift or quality figure")
        .tags(tags)
        .register(registry);
    Gauge.builder(
            "prefstream.drift.level",
            latest,
            m -> staleness.stale(key, System.currentTimeMillis()) ? Double.NaN : level(m.get(key)))
        .description(
            "Alert level of the figure: 0 OK, 1 WARN, 2 ALERT; NaN once stale (no new window for"
                + " monitor.stale-after)")
        .tags(tags)
        .register(registry);
  }

  private static double value(DriftReport r) {
    return r == null ? Double.NaN : r.getValue();
  }

  private static double level(DriftReport r) {
    return r == null ? Double.NaN : r.getLevel().ordinal();
  }

  /** The caller of the request's key, or null when it was answered with the 401. */
  private Caller caller(Context ctx) {
    try {
      return BearerAuth.callerOf(BearerAuth.header(ctx), keys);
    } catch (RequestError e) {
      HttpErrors.answer(ctx, e);
      return null;
    }
  }

  private void reports(Context ctx, boolean alertsOnly) {
    Caller caller = caller(ctx);
    if (caller == null) {
      return;
    }
    ArrayNode list = JsonForm.mapper().createArrayNode();
    long now = System.currentTimeMillis();
    for (DriftReport r : latest()) {
      boolean stale = staleness.stale(key(r), now);
      if (caller.sees(r.getTenantId())
          && (!alertsOnly || (r.getLevel() != AlertLevel.OK && !stale))) {
        ObjectNode node = (ObjectNode) JSON.toJson(r);
        node.put("stale", stale);
        list.add(node);
      }
    }
    ObjectNode body = JsonForm.mapper().createObjectNode();
    body.put("streams", streams.state().name());
    body.set(alertsOnly ? "alerts" : "reports", list);
    ctx.contentType("application/json").result(HttpErrors.json(body));
  }

  private void chartJs(Context ctx) {
    String path = "META-INF/resources/webjars/chart.js/" + CHART_JS + "/dist/chart.umd.min.js";
    java.io.InputStream in = MonitorServer.class.getClassLoader().getResourceAsStream(path);
    if (in == null) {
      HttpErrors.answer(
          ctx,
          new RequestError(404, "not_found", null, "the chart.js WebJar is not on the classpath"));
      return;
    }
    ctx.header("Cache-Control", "max-age=86400").contentType("text/javascript").result(in);
  }

  private void dashboard(Context ctx) {
    Caller caller = caller(ctx);
    if (caller == null) {
      return;
    }
    ctx.contentType("application/json")
        .result(
            HttpErrors.json(
                dashboard.render(
                    caller,
                    global(MonitorTopology.CHECKPOINTS),
                    global(MonitorTopology.ROLLOUTS),
                    current(),
                    lags())));
  }

  /**
   * The champion and candidate of every model, by {@code tenant/model/version}, with the positions
   * their checkpoints were trained through.
   */
  private Map<String, PairLagTracker.Model> served() {
    Map<String, CheckpointPublished> checkpoints = new java.util.HashMap<>();
    for (CheckpointPublished c : this.<CheckpointPublished>global(MonitorTopology.CHECKPOINTS)) {
      checkpoints.put(c.getTenantId() + "/" + c.getModel() + "/" + c.getVersion(), c);
    }
    Map<String, PairLagTracker.Model> served = new java.util.HashMap<>();
    for (RolloutState r : this.<RolloutState>global(MonitorTopology.ROLLOUTS)) {
      for (Long v : new Long[] {r.getChampionVersion(), r.getCandidateVersion()}) {
        String key = r.getTenantId() + "/" + r.getModel() + "/" + v;
        CheckpointPublished c = v == null ? null : checkpoints.get(key);
        if (c != null) {
          served.put(key, PairLagTracker.Model.of(c, topics.pairs().name()));
        }
      }
    }
    return served;
  }

  /** Each served version's lag (none before the tracker has read up to the pairs' end). */
  private Map<String, PairLag.Lag> lags() {
    Map<String, PairLag.Lag> lags = new java.util.HashMap<>();
    if (lagTracker != null && lagTracker.caughtUp()) {
      served().forEach((k, m) -> lags.put(k, lagTracker.lag(m)));
    }
    return lags;
  }

  /** Every value of a global table's store (checkpoints, rollouts), empty until it is queryable. */
  private <V> List<V> global(String store) {
    List<V> values = new ArrayList<>();
    if (streams.state() != KafkaStreams.State.RUNNING) {
      return values;
    }
    try {
      ReadOnlyKeyValueStore<String, V> s =
          streams.store(
              StoreQueryParameters.fromNameAndType(store, QueryableStoreTypes.keyValueStore()));
      try (KeyValueIterator<String, V> it = s.all()) {
        it.forEachRemaining(kv -> values.add(kv.value));
      }
    } catch (RuntimeException e) {
      LOG.debug("{} not queryable yet: {}", store, e.getMessage());
    }
    return values;
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
    KafkaStreams.State s = streams.state();
    ObjectNode body = JsonForm.mapper().createObjectNode();
    boolean dependenciesOk = dependencies.report(body);
    boolean ok = s == KafkaStreams.State.RUNNING && dependenciesOk;
    body.put(
        "status",
        s != KafkaStreams.State.RUNNING ? s.name().toLowerCase() : ok ? "ok" : "degraded");
    body.put("streams", s.name());
    body.put("reports", latest.size());
    ctx.status(ok ? 200 : 503).contentType("application/json").result(HttpErrors.json(body));
  }

  @Override
  public synchronized void close() {
    refresher.shutdownNow();
    if (lagTracker != null) {
      lagTracker.stop();
    }
    if (app != null) {
      app.stop();
    }
    if (metrics != null) {
      metrics.close();
    }
    if (streams != null) {
      streams.close(Duration.ofSeconds(10));
    }
    registry.close();
  }
}
