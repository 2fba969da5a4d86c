package io.prefstream.local;

import io.prefstream.schemas.TopicAdmin;
import io.prefstream.schemas.Topics;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) started in this JVM, with
 * every prefstream topic created. Other processes reach it at {@link #bootstrapServers()}. Its data
 * lives in a configured directory (kept, so a restart resumes) or a temporary one (deleted on
 * close).
 */
public final class LocalKafka implements AutoCloseable {

  public static final int DEFAULT_PORT = 9092;
  private static final Logger LOG = LoggerFactory.getLogger(LocalKafka.class);
  private static final String HOST = "localhost";
  private static final String SCRAM = "SCRAM-SHA-512";

  private final int requestedPort;
  private final Path configuredDataDir;
  private final Topics topics;
  private final Duration startTimeout;
  private final SaslSsl saslSsl;

  private KafkaRaftServer server;
  private Path dataDir;
  private int port;
  private int internalPort;
  private State state = State.CREATED;

  /** Lifecycle of the broker. */
  public enum State {
    CREATED,
    RUNNING,
    STOPPED
  }

  private LocalKafka(Builder builder) {
    this.requestedPort = builder.port;
    this.configuredDataDir = builder.dataDir;
    this.topics = builder.topics;
    this.startTimeout = builder.startTimeout;
    this.saslSsl = builder.saslSsl;
  }

  /**
   * A client listener that takes only TLS connections authenticated by SCRAM-SHA-512, as a secured
   * production cluster does. The broker then also listens, for its own use, in plaintext on a
   * second loopback port (inter-broker traffic and creating the SCRAM users).
   *
   * @param keystore the broker's key and certificate (PKCS12), for {@code localhost}
   * @param keystorePassword the keystore's and the key's password
   * @param users SCRAM-SHA-512 user names and their passwords
   */
  public record SaslSsl(Path keystore, String keystorePassword, Map<String, String> users) {
    public SaslSsl {
      users = Map.copyOf(users);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Options of a local broker; every one has a default. */
  public static final class Builder {
    private int port = DEFAULT_PORT;
    private Path dataDir;
    private Topics topics = Topics.defaults();
    private Duration startTimeout = Duration.ofSeconds(60);
    private SaslSsl saslSsl;

    private Builder() {}

    /** Clients connect over SASL_SSL only (see {@link SaslSsl}). Default: plaintext. */
    public Builder optSaslSsl(SaslSsl saslSsl) {
      this.saslSsl = saslSsl;
      return this;
    }

    /** Client port; 0 picks a free one. Default 9092. */
    public Builder optPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("Kafka port must be in 0..65535, got " + port);
      }
      this.port = port;
      return this;
    }

    /** Where the broker keeps its logs; kept after close. Default: a temporary directory. */
    public Builder optDataDir(Path dataDir) {
      this.dataDir = dataDir;
      return this;
    }

    /** The topics to create (their prefix). Default: {@link Topics#defaults()}. */
    public Builder optTopics(Topics topics) {
      this.topics = topics;
      return this;
    }

    public Builder optStartTimeout(Duration startTimeout) {
      this.startTimeout = startTimeout;
      return this;
    }

    public LocalKafka build() {
      return new LocalKafka(this);
    }
  }

  /** Formats storage on first use, starts the broker, waits until it serves, creates topics. */
  public synchronized LocalKafka start() {
    if (state != State.CREATED) {
      throw new IllegalStateException(
          "Can only start a LocalKafka in CREATED state. Current state is: " + state);
    }
    try {
      dataDir =
          configuredDataDir != null
              ? configuredDataDir
              : Files.createTempDirectory("prefstream-kafka-");
      Files.createDirectories(dataDir);
      port = requestedPort == 0 ? freePort() : requirePortFree(requestedPort);
      internalPort = saslSsl == null ? port : freePort();
      int controllerPort = freePort();
      KafkaConfig config = new KafkaConfig(brokerProperties(controllerPort), false);
      format(config);
      server = new KafkaRaftServer(config, Time.SYSTEM);
      server.startup();
      state = State.RUNNING;
      try (Admin admin = Admin.create(adminProperties())) {
        admin.describeCluster().nodes().get(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
        if (saslSsl != null) {
          createScramUsers(admin);
        }
        List<String> created =
            new TopicAdmin(admin, startTimeout).createMissing(topics.all(), (short) 1);
        LOG.info(
            "Kafka at {} ready (data {}); created topics {}", bootstrapServers(), dataDir, created);
      }
      return this;
    } catch (Exception e) {
      close();
      if (e instanceof LocalKafkaException lke) {
        throw lke;
      }
      throw new LocalKafkaException(
          "Could not start the local Kafka broker on port "
              + (port == 0 ? requestedPort : port)
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** Where clients connect: the SASL_SSL listener when there is one. */
  public String bootstrapServers() {
    requireRunning();
    return HOST + ":" + port;
  }

  /** The SASL_SSL listener's settings, or null when clients connect in plaintext. */
  public SaslSsl saslSsl() {
    return saslSsl;
  }

  public int port() {
    requireRunning();
    return port;
  }

  public Path dataDir() {
    return dataDir;
  }

  public Topics topics() {
    return topics;
  }

  public synchronized State state() {
    return state;
  }

  /** Stops the broker; deletes the data directory if it was temporary. Idempotent. */
  @Override
  public synchronized void close() {
    if (server != null) {
      try {
        server.shutdown();
        server.awaitShutdown();
      } catch (RuntimeException e) {
        LOG.warn("Error while stopping the local Kafka broker", e);
      }
      server = null;
    }
    state = State.STOPPED;
    if (configuredDataDir == null && dataDir != null) {
      deleteRecursively(dataDir);
      dataDir = null;
    }
  }

  private void requireRunning() {
    if (state != State.RUNNING) {
      throw new IllegalStateException("LocalKafka is not running. Current state is: " + state);
    }
  }

  private Properties brokerProperties(int controllerPort) {
    Properties p = new Properties();
    p.putAll(
        Map.ofEntries(
            Map.entry("process.roles", "broker,controller"),
            Map.entry("node.id", "1"),
            Map.entry("controller.quorum.voters", "1@" + HOST + ":" + controllerPort),
            Map.entry("controller.listener.names", "CONTROLLER"),
            Map.entry("inter.broker.listener.name", "PLAINTEXT"),
            Map.entry("log.dirs", dataDir.resolve("logs").toString()),
            Map.entry("auto.create.topics.enable", "false"),
            Map.entry("num.partitions", "1"),
            // One node: every internal topic has one replica; few partitions suit a laptop.
            Map.entry("offsets.topic.replication.factor", "1"),
            Map.entry("offsets.topic.num.partitions", "3"),
            Map.entry("transaction.state.log.replication.factor", "1"),
            Map.entry("transaction.state.log.min.isr", "1"),
            Map.entry("transaction.state.log.num.partitions", "3"),
            Map.entry("share.coordinator.state.topic.replication.factor", "1"),
            Map.entry("share.coordinator.state.topic.min.isr", "1"),
            Map.entry("group.initial.rebalance.delay.ms", "0"),
            Map.entry("num.network.threads", "2"),
            Map.entry("num.io.threads", "2"),
            Map.entry("log.cleaner.dedupe.buffer.size", Integer.toString(8 << 20)),
            Map.entry("log.cleaner.backoff.ms", "5000")));
    String plaintext = "PLAINTEXT://" + HOST + ":" + internalPort;
    String controller = "CONTROLLER://" + HOST + ":" + controllerPort;
    if (saslSsl == null) {
      p.put("listeners", plaintext + "," + controller);
      p.put("advertised.listeners", plaintext);
      p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
      return p;
    }
    String secured = "SASL_SSL://" + HOST + ":" + port;
    p.put("listeners", secured + "," + plaintext + "," + controller);
    p.put("advertised.listeners", secured + "," + plaintext);
    p.put(
        "listener.security.protocol.map",
        "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("sasl.enabled.mechanisms", SCRAM);
    p.put(
        "listener.name.sasl_ssl." + SCRAM.toLowerCase(Locale.ROOT) + ".sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required;");
    p.put("listener.name.sasl_ssl.ssl.keystore.type", "PKCS12");
    p.put("listener.name.sasl_ssl.ssl.keystore.location", saslSsl.keystore().toString());
    p.put("listener.name.sasl_ssl.ssl.keystore.password", saslSsl.keystorePassword());
    p.put("listener.name.sasl_ssl.ssl.key.password", saslSsl.keystorePassword());
    return p;
  }

  /** Creates the SCRAM users, then waits until the broker knows them all. */
  private void createScramUsers(Admin admin) throws Exception {
    List<UserScramCredentialAlteration> upserts = new ArrayList<>();
    for (Map.Entry<String, String> user : saslSsl.users().entrySet()) {
      upserts.add(
          new UserScramCredentialUpsertion(
              user.getKey(),
              new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096),
              user.getValue()));
    }
    admin
        .alterUserScramCredentials(upserts)
        .all()
        .get(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
    long deadline = System.nanoTime() + startTimeout.toNanos();
    while (!admin
        .describeUserScramCredentials()
        .users()
        .get(startTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .containsAll(saslSsl.users().keySet())) {
      if (System.nanoTime() > deadline) {
        throw new LocalKafkaException("the broker did not learn its SCRAM users in time", null);
      }
      Thread.sleep(50);
    }
  }

  private Properties adminProperties() {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, HOST + ":" + internalPort);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) startTimeout.toMillis());
    return p;
  }

  private void format(KafkaConfig config) throws Exception {
    if (Files.exists(dataDir.resolve("logs").resolve("meta.properties"))) {
      LOG.info("Kafka storage in {} already formatted; resuming", dataDir);
      return;
    }
    Formatter formatter = new Formatter();
    formatter.setClusterId(Uuid.randomUuid().toString());
    formatter.setNodeId(config.nodeId());
    formatter.setDirectories(List.of(dataDir.resolve("logs").toString()));
    formatter.setMetadataLogDirectory(config.metadataLogDir());
    formatter.setControllerListenerName("CONTROLLER");
    formatter.setReleaseVersion(MetadataVersion.LATEST_PRODUCTION);
    formatter.setIgnoreFormatted(true);
    formatter.setPrintStream(new PrintStream(OutputStream.nullOutputStream()));
    formatter.run();
  }

  private static int requirePortFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
      return port;
    } catch (IOException e) {
      throw new LocalKafkaException(
          "Port "
              + port
              + " is already in use: is another Kafka or './prefstream up' running? Stop it,"
              + " or choose another port (0 picks a free one).",
          e);
    }
  }

  /** A free port on the loopback interface. */
  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName(HOST))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("No free local port", e);
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.warn("Could not delete {}", dir, e);
    }
  }
}
