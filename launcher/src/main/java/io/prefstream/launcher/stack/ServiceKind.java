package io.prefstream.launcher.stack;

import io.prefstream.config.ConfigOption;
import io.prefstream.config.Settings;
import io.prefstream.ingest.IngestOptions;
import io.prefstream.monitor.MonitorOptions;
import io.prefstream.pairs.PairBuilderOptions;
import io.prefstream.schemas.Topics;
import io.prefstream.scorer.ScorerOptions;
import io.prefstream.trainer.TrainerOptions;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The services the launcher starts against a broker, each with its keys: how {@code run}, {@code
 * up}, {@code demo} and {@code bench freshness} layer a service's settings is defined here once.
 */
public enum ServiceKind {
  INGEST(
      "ingest",
      IngestOptions.ALL,
      IngestOptions.BOOTSTRAP_SERVERS,
      IngestOptions.TOPIC_PREFIX,
      IngestOptions.PORT,
      IngestOptions.HOST,
      null,
      null),
  PAIR_BUILDER(
      "pair-builder",
      PairBuilderOptions.ALL,
      PairBuilderOptions.BOOTSTRAP_SERVERS,
      PairBuilderOptions.TOPIC_PREFIX,
      null,
      PairBuilderOptions.LOCAL_REST_ADDRESS,
      PairBuilderOptions.LOCAL_STATE_DIR,
      ""),
  TRAINER(
      "trainer",
      TrainerOptions.WITH_MODEL,
      TrainerOptions.BOOTSTRAP_SERVERS,
      TrainerOptions.TOPIC_PREFIX,
      TrainerOptions.PORT,
      TrainerOptions.HOST,
      TrainerOptions.STORE,
      "checkpoints"),
  SCORER(
      "scorer",
      ScorerOptions.WITH_MODEL,
      ScorerOptions.BOOTSTRAP_SERVERS,
      ScorerOptions.TOPIC_PREFIX,
      ScorerOptions.PORT,
      ScorerOptions.HOST,
      null,
      null),
  MONITOR(
      "monitor",
      MonitorOptions.ALL,
      MonitorOptions.BOOTSTRAP_SERVERS,
      MonitorOptions.TOPIC_PREFIX,
      MonitorOptions.PORT,
      MonitorOptions.HOST,
      MonitorOptions.STATE_DIR,
      "monitor-state");

  private final String serviceName;
  private final Collection<ConfigOption<?>> options;
  private final ConfigOption<String> bootstrapServers;
  private final ConfigOption<String> topicPrefix;
  private final ConfigOption<Integer> port;
  private final ConfigOption<String> host;
  private final ConfigOption<String> stateDir;
  private final String stateDirName;

  ServiceKind(
      String serviceName,
      List<ConfigOption<?>> options,
      ConfigOption<String> bootstrapServers,
      ConfigOption<String> topicPrefix,
      ConfigOption<Integer> port,
      ConfigOption<String> host,
      ConfigOption<String> stateDir,
      String stateDirName) {
    this.serviceName = serviceName;
    this.options = options;
    this.bootstrapServers = bootstrapServers;
    this.topicPrefix = topicPrefix;
    this.port = port;
    this.host = host;
    this.stateDir = stateDir;
    this.stateDirName = stateDirName;
  }

  /** Its name on the command line ({@code run trainer}) and in messages. */
  public String serviceName() {
    return serviceName;
  }

  /** The keys it reads, from a config file and from {@code PREFSTREAM_*} variables. */
  public Collection<ConfigOption<?>> options() {
    return options;
  }

  /**
   * The key of the interface its listeners bind (for the pair builder, its local Flink cluster's
   * REST endpoint).
   */
  public ConfigOption<String> hostOption() {
    return host;
  }

  /** Its HTTP port's key, or null for the pair builder, which serves nothing. */
  public ConfigOption<Integer> portOption() {
    return port;
  }

  /**
   * Its settings, layered from the bottom: its durable state under {@code dataDir} ({@code
   * DATA_DIR/checkpoints}, {@code DATA_DIR/monitor-state}, the pair builder's Flink checkpoints
   * under {@code DATA_DIR}); {@code given} (a config file, a command's defaults); its {@code
   * PREFSTREAM_*} environment variables; {@code forced} (a command's explicit options); and the
   * wiring: the broker, the topic prefix and, when not null, the port.
   */
  public Settings settings(
      Settings given,
      Settings forced,
      String bootstrap,
      Topics topics,
      Path dataDir,
      Integer httpPort) {
    Map<String, String> beneath = new HashMap<>();
    if (stateDir != null && dataDir != null) {
      beneath.put(stateDir.key(), dataDir.resolve(stateDirName).toString());
    }
    Map<String, String> wiring = new HashMap<>();
    wiring.put(bootstrapServers.key(), bootstrap);
    wiring.put(topicPrefix.key(), topics.prefix());
    if (httpPort != null && port != null) {
      wiring.put(port.key(), Integer.toString(httpPort));
    }
    return Settings.of(beneath)
        .overriddenBy(given)
        .overriddenBy(Settings.fromEnv(System.getenv(), options))
        .overriddenBy(forced)
        .overriddenBy(Settings.of(wiring));
  }

  /** The kind named {@code name} on the command line. */
  public static ServiceKind named(String name) {
    for (ServiceKind kind : values()) {
      if (kind.serviceName.equals(name)) {
        return kind;
      }
    }
    throw new IllegalArgumentException(name);
  }
}
