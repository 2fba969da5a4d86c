package io.prefstream.scorer;

import io.micrometer.core.instrument.MeterRegistry;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.RolloutPhase;
import io.prefstream.avro.RolloutState;
import io.prefstream.model.checkpoint.CheckpointLoader;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each tenant's model serves now: a {@link Route} per tenant/model, rebuilt whenever its
 * rollout state changes. New versions are loaded (verified, warmed up) on a loader thread and only
 * then swapped in; requests in flight finish on the model they took, which is closed after them. A
 * version that fails verification is refused, reported and never served: its traffic stays with the
 * champion.
 */
public final class Serving implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Serving.class);

  /**
   * The serving snapshot of one tenant's model.
   *
   * @param state the rollout state it follows
   * @param champion the champion, loaded, or null while it loads (or was refused)
   * @param candidate the candidate, loaded, or null (none, loading, refused)
   */
  public record Route(RolloutState state, ServedModel champion, ServedModel candidate) {

    /** The candidate's share of traffic, when it is loaded and the rollout is in canary. */
    public double candidateWeight() {
      return candidate != null && state.getPhase() == RolloutPhase.CANARY
          ? state.getCandidateWeight()
          : 0;
    }

    public boolean shadow() {
      return candidate != null && state.getPhase() == RolloutPhase.SHADOW;
    }
  }

  private final Registry registry;
  private final ModelLoader loader;
  private final MeterRegistry meters;
  private final Map<String, Route> routes = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<ServedModel>> models = new ConcurrentHashMap<>();
  private final Map<String, String> refused = new ConcurrentHashMap<>();
  private final ExecutorService loading =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "scorer-loader");
            t.setDaemon(true);
            return t;
          });

  Serving(Registry registry, ModelLoader loader, MeterRegistry meters) {
    this.registry = registry;
    this.loader = loader;
    this.meters = meters;
    registry.onRollout((key, state) -> refresh(key));
    registry.onCheckpoint((key, checkpoint) -> refresh(key));
  }

  public Route route(String key) {
    return routes.get(key);
  }

  public Map<String, Route> routes() {
    return Map.copyOf(routes);
  }

  /** Versions refused, with why: "tenant/model/vN" → reason. */
  public Map<String, String> refused() {
    return Map.copyOf(refused);
  }

  /**
   * The loaded model of a version, loading it if needed (waits), with a lease the caller must
   * release.
   *
   * @throws CheckpointLoader.Refused when it fails verification or cannot load, or is not announced
   */
  public ServedModel lease(String key, long version) throws CheckpointLoader.Refused {
    CheckpointPublished c = registry.checkpoint(key, version);
    if (c == null) {
      throw new CheckpointLoader.Refused(
          "unannounced", key + " v" + version + " is not announced", null);
    }
    while (true) {
      ServedModel m;
      try {
        m = load(c).join();
      } catch (CompletionException e) {
        if (e.getCause() instanceof CheckpointLoader.Refused refusal) {
          throw refusal;
        }
        throw e;
      }
      if (m.acquire()) {
        return m;
      }
      ServedModel retired = m;
      models.computeIfPresent(
          versionKey(key, version), (k, f) -> f.getNow(null) == retired ? null : f);
    }
  }

  /** Rebuilds the route of {@code key} from its rollout state, loading what it needs first. */
  void refresh(String key) {
    RolloutState state = registry.rollout(key);
    if (state == null) {
      return;
    }
    CompletableFuture<ServedModel> champion = modelFor(key, state.getChampionVersion());
    CompletableFuture<ServedModel> candidate = modelFor(key, state.getCandidateVersion());
    CompletableFuture.allOf(champion, candidate)
        .handle((ignored, error) -> null)
        .thenRunAsync(() -> install(key, state, champion, candidate), loading);
  }

  private CompletableFuture<ServedModel> modelFor(String key, Long version) {
    if (version == null) {
      return CompletableFuture.completedFuture(null);
    }
    CheckpointPublished c = registry.checkpoint(key, version);
    if (c == null) {
      return CompletableFuture.completedFuture(null); // announced later: refreshed then
    }
    return load(c);
  }

  private CompletableFuture<ServedModel> load(CheckpointPublished c) {
    String vk = versionKey(Registry.key(c.getTenantId(), c.getModel()), c.getVersion());
    return models.computeIfAbsent(
        vk,
        k ->
            CompletableFuture.supplyAsync(
                () -> {
                  ServedModel parent = loadedParent(c);
                  try {
                    long started = System.nanoTime();
                    ModelLoader.Loaded loaded = loader.load(c, parent);
                    meters.counter("prefstream.scorer.checkpoints.loaded").increment();
                    // What a swap costs: verifying and loading, by model type (an encoder
                    // checkpoint is ~100 MB) and path (full; a delta composed from its chain;
                    // a delta onto its loaded parent), and the checkpoint's size.
                    String path = loaded.path().name().toLowerCase(java.util.Locale.ROOT);
                    meters
                        .timer(
                            "prefstream.scorer.checkpoint.load",
                            "model_type",
                            c.getModelType(),
                            "path",
                            path)
                        .record(java.time.Duration.ofNanos(System.nanoTime() - started));
                    meters
                        .summary(
                            "prefstream.scorer.checkpoint.bytes",
                            "model_type",
                            c.getModelType(),
                            "path",
                            path)
                        .record(c.getFiles().stream().mapToLong(f -> f.getSize()).sum());
                    return loaded.model();
                  } catch (CheckpointLoader.Refused e) {
                    LOG.error("{}", e.getMessage());
                    refused.put(k, e.getMessage());
                    meters
                        .counter("prefstream.scorer.checkpoints.refused", "reason", e.kind())
                        .increment();
                    throw new CompletionException(e);
                  } finally {
                    if (parent != null) {
                      parent.release();
                    }
                  }
                },
                loading));
  }

  /**
   * For a delta checkpoint, the newest older version of its model loaded here (its parent, or the
   * champion it may descend from), leased (the caller releases it); null when none is.
   */
  private ServedModel loadedParent(CheckpointPublished c) {
    if (c.getParentVersion() == null
        || c.getFiles().stream().noneMatch(f -> f.getPath().equals(ModelLoader.DELTA_FILE))) {
      return null;
    }
    String prefix = Registry.key(c.getTenantId(), c.getModel()) + "/v";
    ServedModel best = null;
    for (var e : models.entrySet()) {
      CompletableFuture<ServedModel> f = e.getValue();
      if (!e.getKey().startsWith(prefix)
          || !f.isDone()
          || f.isCompletedExceptionally()
          || f.join() == null
          || f.join().version() >= c.getVersion()) {
        continue;
      }
      if (best == null || f.join().version() > best.version()) {
        best = f.join();
      }
    }
    return best != null && best.acquire() ? best : null;
  }

  private synchronized void install(
      String key,
      RolloutState state,
      CompletableFuture<ServedModel> champion,
      CompletableFuture<ServedModel> candidate) {
    if (registry.rollout(key) != state) {
      return; // a newer state arrived meanwhile; its own refresh installs it
    }
    Route route = new Route(state, loaded(champion), loaded(candidate));
    Route previous = routes.put(key, route);
    if (previous == null
        || previous.champion() != route.champion()
        || previous.candidate() != route.candidate()) {
      meters.counter("prefstream.scorer.swaps").increment();
      LOG.info(
          "Serving {}: champion v{}{}, phase {}, candidate weight {}",
          key,
          route.champion() == null ? "-" : route.champion().version(),
          route.candidate() == null ? "" : ", candidate v" + route.candidate().version(),
          state.getPhase(),
          route.candidateWeight());
    }
    Set<String> keep = new HashSet<>();
    for (Long v : new Long[] {state.getChampionVersion(), state.getCandidateVersion()}) {
      if (v != null) {
        keep.add(versionKey(key, v));
      }
    }
    for (var e : List.copyOf(models.entrySet())) {
      if (e.getKey().startsWith(key + "/v") && !keep.contains(e.getKey())) {
        models.remove(e.getKey());
        ServedModel old = e.getValue().getNow(null);
        if (old != null) {
          old.retire(); // closed once the requests holding it finish
        }
      }
    }
  }

  private static ServedModel loaded(CompletableFuture<ServedModel> f) {
    return f.isDone() && !f.isCompletedExceptionally() ? f.join() : null;
  }

  private static String versionKey(String key, long version) {
    return key + "/v" + version;
  }

  /**
   * Whether sticky key {@code who} of model {@code key} goes to the candidate at {@code weight}: a
   * stable 64-bit hash, the same on every replica and JVM, so a user keeps their arm as the weight
   * grows.
   */
  public static boolean toCandidate(String key, String who, double weight) {
    if (weight <= 0) {
      return false;
    }
    long h = 0xcbf29ce484222325L;
    for (byte b : (key + "\u0000" + who).getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    h ^= h >>> 33; // splitmix finaliser: spreads FNV's weak high bits
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    double unit = (h >>> 11) * 0x1.0p-53;
    return unit < weight;
  }

  @Override
  public void close() {
    loading.shutdownNow();
    for (CompletableFuture<ServedModel> f : models.values()) {
      ServedModel m = f.getNow(null);
      if (m != null) {
        m.retire();
      }
    }
    models.clear();
    routes.clear();
  }
}
