package io.prefstream.scorer;

import static io.prefstream.scorer.ScorerOptions.*;

import io.prefstream.config.Settings;
import io.prefstream.http.HttpListener;
import io.prefstream.model.ModelOptions;
import io.prefstream.scorer.rollout.RolloutPolicy;
import java.time.Duration;
import java.util.Map;

/**
 * The scorer's configuration, immutable; see {@link ScorerOptions} for each key.
 *
 * @param bootstrapServers Kafka bootstrap servers
 * @param topicPrefix prefix of every prefstream topic
 * @param listener the API's interface, port and TLS, and the /metrics listener
 * @param httpThreads most HTTP worker threads
 * @param modelName model served when a request names none
 * @param sharedModel tenant whose models every tenant is served, or empty
 * @param maxResponses most responses per request
 * @param maxChars longest prompt or response
 * @param maxBatch most candidates per model call
 * @param queueCapacity most candidates waiting per model
 * @param workers threads calling each served model
 * @param scoreSample share of scores written to prefstream.scores
 * @param requestTimeout longest a request waits for its scores
 * @param device model.device for the served models
 * @param engineThreads model.engine-threads, 0 for automatic
 * @param precision model.precision: what the served models compute in (fp32, or fp16 for encoders)
 * @param rollout how candidates are rolled out
 * @param controller whether this replica offers to run the rollout controller
 * @param kafka Kafka client properties passed through
 * @param quotas the quota keys ({@code scorer.quota.*}), read by {@link #newQuotas}
 */
public record ScorerConfig(
    String bootstrapServers,
    String topicPrefix,
    HttpListener listener,
    int httpThreads,
    String modelName,
    String sharedModel,
    int maxResponses,
    int maxChars,
    int maxBatch,
    int queueCapacity,
    int workers,
    double scoreSample,
    Duration requestTimeout,
    String device,
    int engineThreads,
    String precision,
    RolloutPolicy rollout,
    boolean controller,
    Map<String, String> kafka,
    Settings quotas) {

  public ScorerConfig {
    kafka = Map.copyOf(kafka);
  }

  public static ScorerConfig defaults() {
    return from(Settings.empty());
  }

  /** Reads every {@code scorer.*} and {@code rollout.*} key (failing on unknown ones). */
  public static ScorerConfig from(Settings s) {
    s.without(QUOTAS.tenantPrefix()).requireKnown("scorer.", ALL);
    QUOTAS.read(s, () -> 0L); // per-tenant keys checked now, at start
    s.requireKnown("rollout.", ALL);
    return new ScorerConfig(
        s.get(BOOTSTRAP_SERVERS),
        s.get(TOPIC_PREFIX),
        LISTENER.read(s),
        s.get(HTTP_THREADS),
        s.get(MODEL_NAME),
        s.get(SHARED_MODEL),
        s.get(MAX_RESPONSES),
        s.get(MAX_CHARS),
        s.get(MAX_BATCH),
        s.get(QUEUE_CAPACITY),
        s.get(WORKERS),
        s.get(SCORE_SAMPLE),
        s.get(REQUEST_TIMEOUT),
        s.get(ModelOptions.DEVICE),
        s.get(ModelOptions.ENGINE_THREADS),
        s.get(ModelOptions.PRECISION),
        new RolloutPolicy(
            RolloutPolicy.parseSteps(s.get(ROLLOUT_STEPS)),
            s.get(ROLLOUT_MIN_PAIRS),
            s.get(ROLLOUT_MAX_PAIRS),
            s.get(ROLLOUT_TOLERANCE),
            s.get(ROLLOUT_ALPHA),
            s.get(ROLLOUT_MIN_SPREAD),
            s.get(ROLLOUT_MAX_PSI),
            s.get(ROLLOUT_FOLLOW) == 1),
        s.get(ROLLOUT_CONTROLLER) == 1,
        s.under("kafka."),
        s);
  }

  /** Each tenant's token bucket of candidates scored a second. */
  public io.prefstream.http.Quotas newQuotas(java.util.function.LongSupplier nanos) {
    return QUOTAS.read(quotas, nanos);
  }

  /** The tenant whose models serve {@code tenant}. */
  public String modelTenant(String tenant) {
    return sharedModel.isEmpty() ? tenant : sharedModel;
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
