package io.prefstream.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Uuid;

/**
 * A Kafka cluster of several nodes, each in its own JVM, run the way Kafka itself runs: a {@code
 * server.properties} per node, storage formatted with {@code kafka.tools.StorageTool format}, and
 * the broker started as {@code kafka.Kafka server.properties}. Each node is broker and controller
 * (combined mode) with a static controller quorum of all nodes; internal topics are replicated to
 * three nodes with two in sync. A node can be killed ({@code SIGKILL}) and started again on its
 * storage, which is what failover drills do.
 *
 * <p>The JVMs run on this JVM's class path (which holds {@code kafka_2.13} and its dependencies).
 */
public final class KafkaCluster implements AutoCloseable {

  private static final String HOST = "localhost";

  private final Path dataDir;
  private final int nodes;
  private final Duration startTimeout;
  private final String clusterId = Uuid.randomUuid().toString();
  private final int[] brokerPorts;
  private final int[] controllerPorts;
  private final Process[] processes;

  public KafkaCluster(Path dataDir, int nodes, Duration startTimeout) {
    if (nodes < 1) {
      throw new IllegalArgumentException("a cluster needs at least one node, got " + nodes);
    }
    this.dataDir = dataDir;
    this.nodes = nodes;
    this.startTimeout = startTimeout;
    this.brokerPorts = new int[nodes];
    this.controllerPorts = new int[nodes];
    this.processes = new Process[nodes];
  }

  /** Writes each node's configuration, formats its storage, starts all and waits for them. */
  public KafkaCluster start() {
    try {
      for (int n = 0; n < nodes; n++) {
        brokerPorts[n] = LocalKafka.freePort();
        controllerPorts[n] = LocalKafka.freePort();
      }
      for (int n = 0; n < nodes; n++) {
        Path config = writeConfig(n);
        run(
            n,
            "format",
            List.of(
                "kafka.tools.StorageTool",
                "format",
                "--cluster-id",
                clusterId,
                "--config",
                config.toString(),
                "--ignore-formatted"),
            true);
      }
      for (int n = 0; n < nodes; n++) {
        startNode(n);
      }
      awaitBrokers(nodes);
      return this;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** The brokers' addresses, all nodes. */
  public String bootstrapServers() {
    List<String> all = new ArrayList<>();
    for (int n = 0; n < nodes; n++) {
      all.add(HOST + ":" + brokerPorts[n]);
    }
    return String.join(",", all);
  }

  /**
   * Creates a topic replicated to {@code replicas} nodes with {@code minInSync} in sync, and waits
   * until every broker knows it and each partition has a leader and all its replicas in sync.
   */
  public TopicDescription createTopic(String name, int partitions, int replicas, int minInSync) {
    try (Admin admin = admin(bootstrapServers())) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(name, partitions, (short) replicas)
                      .configs(Map.of("min.insync.replicas", Integer.toString(minInSync)))))
          .all()
          .get(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
      TopicDescription[] described = new TopicDescription[1];
      await(
          "topic " + name + " fully replicated on every broker",
          () -> {
            described[0] = describe(admin, name);
            return described[0].partitions().size() == partitions
                && described[0].partitions().stream()
                    .allMatch(p -> p.leader() != null && p.isr().size() == replicas)
                && everyBrokerKnows(name, partitions);
          });
      return described[0];
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LocalKafkaException("interrupted while creating topic " + name, e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new LocalKafkaException("could not create topic " + name + ": " + e.getMessage(), e);
    }
  }

  /** Whether each broker, asked on its own, serves metadata of every partition of a topic. */
  private boolean everyBrokerKnows(String name, int partitions) throws Exception {
    for (int n = 0; n < nodes; n++) {
      if (processes[n] != null) {
        try (Admin one = admin(HOST + ":" + brokerPorts[n])) {
          if (describe(one, name).partitions().size() != partitions) {
            return false;
          }
        }
      }
    }
    return true;
  }

  private static TopicDescription describe(Admin admin, String name) throws Exception {
    return admin.describeTopics(List.of(name)).allTopicNames().get(5, TimeUnit.SECONDS).get(name);
  }

  private static Admin admin(String bootstrap) {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
    return Admin.create(props);
  }

  /** Kills a node's JVM at once (SIGKILL: no controlled shutdown), as a crash would. */
  public void kill(int nodeId) {
    Process p = processes[nodeId - 1];
    if (p != null) {
      p.destroyForcibly();
      try {
        p.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      processes[nodeId - 1] = null;
    }
  }

  /** Starts a killed node again on its storage and waits until the cluster has all brokers. */
  public void restart(int nodeId) {
    if (processes[nodeId - 1] != null) {
      throw new IllegalStateException("node " + nodeId + " is running");
    }
    startNode(nodeId - 1);
    awaitBrokers(nodes);
  }

  /** Whether a node's JVM is alive. */
  public boolean alive(int nodeId) {
    Process p = processes[nodeId - 1];
    return p != null && p.isAlive();
  }

  /** Where a node writes its output. */
  public Path log(int nodeId) {
    return dataDir.resolve("node-" + nodeId).resolve("server.log");
  }

  @Override
  public void close() {
    for (int n = 1; n <= nodes; n++) {
      kill(n);
    }
  }

  private void startNode(int n) {
    Path config = dataDir.resolve("node-" + (n + 1)).resolve("server.properties");
    processes[n] = run(n, "server", List.of("kafka.Kafka", config.toString()), false);
  }

  private Path writeConfig(int n) {
    int id = n + 1;
    Path dir = dataDir.resolve("node-" + id);
    String voters =
        java.util.stream.IntStream.range(0, nodes)
            .mapToObj(v -> (v + 1) + "@" + HOST + ":" + controllerPorts[v])
            .collect(Collectors.joining(","));
    String replicas = Integer.toString(Math.min(3, nodes));
    String minInSync = Integer.toString(Math.max(1, Math.min(3, nodes) - 1));
    Map<String, String> p = new TreeMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", Integer.toString(id));
    p.put("controller.quorum.voters", voters);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put(
        "listeners",
        "PLAINTEXT://"
            + HOST
            + ":"
            + brokerPorts[n]
            + ",CONTROLLER://"
            + HOST
            + ":"
            + controllerPorts[n]);
    p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPorts[n]);
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", dir.resolve("logs").toString());
    p.put("auto.create.topics.enable", "false");
    p.put("default.replication.factor", replicas);
    p.put("min.insync.replicas", minInSync);
    p.put("offsets.topic.replication.factor", replicas);
    p.put("offsets.topic.num.partitions", "3");
    p.put("transaction.state.log.replication.factor", replicas);
    p.put("transaction.state.log.min.isr", minInSync);
    p.put("transaction.state.log.num.partitions", "3");
    p.put("share.coordinator.state.topic.replication.factor", replicas);
    p.put("share.coordinator.state.topic.min.isr", minInSync);
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("num.network.threads", "2");
    p.put("num.io.threads", "2");
    p.put("log.cleaner.dedupe.buffer.size", Integer.toString(8 << 20));
    try {
      Files.createDirectories(dir);
      Path file = dir.resolve("server.properties");
      Files.writeString(
          file,
          p.entrySet().stream()
                  .map(e -> e.getKey() + "=" + e.getValue())
                  .collect(Collectors.joining("\n"))
              + "\n");
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs a Kafka main class in a JVM of its own; {@code wait}: until it exits, failing loudly. */
  private Process run(int n, String what, List<String> mainAndArgs, boolean wait) {
    Path dir = dataDir.resolve("node-" + (n + 1));
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx512m");
    command.add("-XX:+UseSerialGC");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.addAll(mainAndArgs);
    Path out = dir.resolve(what.equals("server") ? "server.log" : what + ".log");
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
              .start();
      if (!wait) {
        return p;
      }
      if (!p.waitFor(startTimeout.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new LocalKafkaException(
            "Kafka node " + (n + 1) + ": " + what + " failed; see " + out + ":\n" + tail(out),
            null);
      }
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LocalKafkaException("interrupted while starting Kafka node " + (n + 1), e);
    }
  }

  private void awaitBrokers(int expected) {
    try (Admin admin = admin(bootstrapServers())) {
      await(
          expected + " brokers",
          () -> {
            for (int n = 0; n < nodes; n++) {
              if (processes[n] != null && !processes[n].isAlive()) {
                throw new LocalKafkaException(
                    "Kafka node " + (n + 1) + " exited; see its log:\n" + tail(log(n + 1)), null);
              }
            }
            return admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size() >= expected;
          });
    }
  }

  /**
   * Polls {@code ready} until it holds, within the start timeout; an exception from it means "not
   * yet", but a {@link LocalKafkaException} (a node died) ends the wait at once.
   */
  private void await(String what, java.util.concurrent.Callable<Boolean> ready) {
    long deadline = System.nanoTime() + startTimeout.toNanos();
    while (true) {
      try {
        if (ready.call()) {
          return;
        }
      } catch (LocalKafkaException e) {
        throw e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LocalKafkaException("interrupted while waiting for " + what, e);
      } catch (Exception e) {
        // not yet
      }
      if (System.nanoTime() > deadline) {
        throw new LocalKafkaException(
            "Kafka cluster: no " + what + " within " + startTimeout, null);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LocalKafkaException("interrupted while waiting for " + what, e);
      }
    }
  }

  private static String tail(Path file) {
    try {
      List<String> lines = Files.readAllLines(file);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
