package io.prefstream.launcher.stack;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.prefstream.config.Settings;
import io.prefstream.http.ApiKeys;
import io.prefstream.ingest.IngestMain;
import io.prefstream.ingest.IngestServer;
import io.prefstream.local.LocalKafka;
import io.prefstream.monitor.MonitorMain;
import io.prefstream.monitor.MonitorServer;
import io.prefstream.pairs.LocalPairBuilder;
import io.prefstream.scorer.ScorerConfig;
import io.prefstream.scorer.ScorerMain;
import io.prefstream.scorer.ScorerServer;
import io.prefstream.service.ServiceException;
import io.prefstream.trainer.TrainerConfig;
import io.prefstream.trainer.TrainerMetrics;
import io.prefstream.trainer.TrainerService;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * The whole system in this process against one broker, as {@code up}, {@code demo} and {@code bench
 * freshness} run it: the broker, then ingest, the pair builder, the trainer, the scorer and the
 * drift monitor, each started only once the one before it serves, and closed in the reverse order
 * (the trainer before the pair builder: it trains what it has read and writes a last checkpoint). A
 * service that cannot start closes those started before it. Build with {@link #builder}, options in
 * DJL's {@code optX} style.
 */
public final class LocalStack implements AutoCloseable {

  private final LocalKafka kafka;
  private final StartedServices started = new StartedServices();
  private IngestServer ingest;
  private LocalPairBuilder pairBuilder;
  private TrainerService trainer;
  private ScorerServer scorer;
  private MonitorServer monitor;

  private LocalStack(LocalKafka kafka) {
    this.kafka = kafka;
    started.add("kafka", kafka);
  }

  /** A stack over {@code kafka}, a started broker with every topic, which the stack then owns. */
  public static Builder builder(LocalKafka kafka) {
    return new Builder(kafka);
  }

  public LocalKafka kafka() {
    return kafka;
  }

  /** Ingest, or null when the stack runs without it; likewise the others. */
  public IngestServer ingest() {
    return ingest;
  }

  public LocalPairBuilder pairBuilder() {
    return pairBuilder;
  }

  public TrainerService trainer() {
    return trainer;
  }

  public ScorerServer scorer() {
    return scorer;
  }

  public MonitorServer monitor() {
    return monitor;
  }

  /**
   * Null while the pipeline runs; else why it does not: the pair builder's job or the trainer ended
   * on its own. Every service's {@code /healthz} says so too (503).
   */
  public String problem() {
    if (pairBuilder != null && pairBuilder.problem() != null) {
      return pairBuilder.problem();
    }
    return trainerEnded.get();
  }

  private final AtomicReference<String> trainerEnded = new AtomicReference<>();

  /** Makes every HTTP service's health rest on the pair builder and the trainer beside it. */
  private void watchPipeline() {
    if (trainer != null) {
      trainer.onUnexpectedEnd(trainerEnded::set);
    }
    Supplier<String> pairs = pairBuilder == null ? null : () -> pairBuilder.problem();
    Supplier<String> training = trainer == null ? null : trainerEnded::get;
    List<BiConsumer<String, Supplier<String>>> services = new ArrayList<>();
    if (ingest != null) {
      services.add(ingest::dependsOn);
    }
    if (scorer != null) {
      services.add(scorer::dependsOn);
    }
    if (monitor != null) {
      services.add(monitor::dependsOn);
    }
    for (var service : services) {
      if (pairs != null) {
        service.accept("pair_builder", pairs);
      }
      if (training != null) {
        service.accept("trainer", training);
      }
    }
  }

  /** The names of what runs ({@code kafka}, {@code ingest}, ...), in the order they started. */
  public List<String> running() {
    return started.names();
  }

  /**
   * Closes what runs, newest first, each even when one before it fails; the first failure is thrown
   * once all are closed.
   */
  @Override
  public void close() {
    started.close();
  }

  private <T extends AutoCloseable> T started(ServiceKind kind, T service) {
    return started.add(kind.serviceName(), service);
  }

  /** What runs and how each service is configured. */
  public static final class Builder {

    /** Where a local stack's listeners bind unless told: this machine only. */
    public static final String LOOPBACK = "127.0.0.1";

    private final LocalKafka kafka;
    private Set<ServiceKind> services = EnumSet.allOf(ServiceKind.class);
    private Settings config = Settings.empty();
    private final Map<ServiceKind, Settings> defaults = new EnumMap<>(ServiceKind.class);
    private final Map<ServiceKind, Settings> forced = new EnumMap<>(ServiceKind.class);
    private final Map<ServiceKind, Integer> ports = new EnumMap<>(ServiceKind.class);
    private String bind;
    private PrintWriter out = new PrintWriter(System.out, true);

    private Builder(LocalKafka kafka) {
      this.kafka = kafka;
    }

    /** Which services run (default: all); the broker always does. */
    public Builder optServices(ServiceKind first, ServiceKind... rest) {
      this.services = EnumSet.of(first, rest);
      return this;
    }

    /** The config file's keys, for every service: over the defaults, under the environment. */
    public Builder optConfig(Settings config) {
      this.config = config;
      return this;
    }

    /** A command's own defaults for one service: beneath the config file. */
    public Builder optDefaults(ServiceKind kind, Settings settings) {
      defaults.put(kind, settings);
      return this;
    }

    /** A command's explicit options for one service (such as {@code --model}): over everything. */
    public Builder optForced(ServiceKind kind, Settings settings) {
      forced.put(kind, settings);
      return this;
    }

    /** The HTTP port of one service, 0 for a free one; unset, its key's value (or default). */
    public Builder optPort(ServiceKind kind, int port) {
      ports.put(kind, port);
      return this;
    }

    /**
     * The interface every listener binds, over the config file and the environment. Unset, each
     * service's {@code *.host} key holds, and its default here is {@value #LOOPBACK}: a local stack
     * serves this machine unless asked.
     */
    public Builder optBind(String host) {
      this.bind = host;
      return this;
    }

    /** Where ingest says whose API keys it takes (default: standard output). */
    public Builder optOut(PrintWriter out) {
      this.out = out;
      return this;
    }

    /** The settings {@code kind} starts with. */
    Settings settings(ServiceKind kind) {
      Settings loopback = Settings.empty();
      Settings bound = Settings.empty();
      if (kind.hostOption() != null) {
        loopback = Settings.of(Map.of(kind.hostOption().key(), LOOPBACK));
        bound = bind == null ? bound : Settings.of(Map.of(kind.hostOption().key(), bind));
      }
      return kind.settings(
          loopback.overriddenBy(defaults.getOrDefault(kind, Settings.empty())).overriddenBy(config),
          forced.getOrDefault(kind, Settings.empty()).overriddenBy(bound),
          kafka.bootstrapServers(),
          kafka.topics(),
          kafka.dataDir(),
          ports.get(kind));
    }

    /**
     * Starts the services in order.
     *
     * @throws ServiceException naming the service and what stopped it; those started are closed
     */
    public LocalStack start() {
      LocalStack stack = new LocalStack(kafka);
      try {
        if (services.contains(ServiceKind.INGEST)) {
          stack.ingest =
              stack.started(
                  ServiceKind.INGEST, IngestMain.start(settings(ServiceKind.INGEST), out));
        }
        if (services.contains(ServiceKind.PAIR_BUILDER)) {
          stack.pairBuilder =
              stack.started(
                  ServiceKind.PAIR_BUILDER,
                  LocalPairBuilder.start(settings(ServiceKind.PAIR_BUILDER)));
        }
        if (services.contains(ServiceKind.TRAINER)) {
          TrainerConfig config = config(ServiceKind.TRAINER, TrainerConfig::from);
          // Its meters on ingest's /metrics, where there is one.
          MeterRegistry registry =
              stack.ingest != null ? stack.ingest.registry() : new SimpleMeterRegistry();
          stack.trainer =
              stack.started(
                  ServiceKind.TRAINER, TrainerService.start(config, new TrainerMetrics(registry)));
        }
        if (services.contains(ServiceKind.SCORER)) {
          // It shares the engine with the trainer: ScorerMain.serve leaves its threads alone.
          ScorerConfig config = config(ServiceKind.SCORER, ScorerConfig::from);
          stack.scorer = stack.started(ServiceKind.SCORER, ScorerMain.serve(config, apiKeys()));
        }
        if (services.contains(ServiceKind.MONITOR)) {
          stack.monitor =
              stack.started(ServiceKind.MONITOR, MonitorMain.start(settings(ServiceKind.MONITOR)));
        }
        stack.watchPipeline();
        return stack;
      } catch (RuntimeException e) {
        try {
          stack.close();
        } catch (RuntimeException closing) {
          e.addSuppressed(closing);
        }
        throw e;
      }
    }

    private <C> C config(ServiceKind kind, java.util.function.Function<Settings, C> from) {
      try {
        return from.apply(settings(kind));
      } catch (IllegalArgumentException e) {
        throw new ServiceException(e.getMessage(), e);
      }
    }

    private static ApiKeys apiKeys() {
      try {
        return ApiKeys.fromEnvironment(System.getenv());
      } catch (IllegalArgumentException e) {
        throw new ServiceException(e.getMessage(), e);
      }
    }
  }
}
