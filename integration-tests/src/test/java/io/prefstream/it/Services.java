package io.prefstream.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Each prefstream service in its own process ({@code prefstream run SERVICE}) against one broker
 * process, as on a cluster: what the fault suite kills ({@code kill -9}), stops and restarts. Every
 * service keeps its durable state under one directory, so a restart resumes it.
 */
final class Services implements AutoCloseable {

  static final Duration READY = Duration.ofSeconds(120);

  private final Path root;
  private final int kafkaPort;
  private final Map<String, ChildProcess> running = new LinkedHashMap<>();
  private final Map<String, String> readyLines = new LinkedHashMap<>();
  private final Path config;

  /**
   * @param settings keys of every service's config file (e.g. faster checkpoints for a test)
   */
  Services(Path root, Map<String, String> settings) throws IOException {
    this.root = root;
    this.kafkaPort = freePort();
    this.config = root.resolve("prefstream.properties");
    StringBuilder props = new StringBuilder();
    settings.forEach((k, v) -> props.append(k).append('=').append(v).append('\n'));
    Files.createDirectories(root);
    Files.writeString(config, props);
  }

  String bootstrap() {
    return "localhost:" + kafkaPort;
  }

  /** Starts {@code name} (e.g. "scorer-2" runs the scorer) and waits for its ready line. */
  String start(String name) throws Exception {
    String service = name.replaceAll("-\\d+$", "");
    List<String> args =
        new ArrayList<>(List.of("run", service, "--data-dir", dir(name).toString()));
    if (service.equals("kafka")) {
      args.addAll(List.of("--port", Integer.toString(kafkaPort)));
    } else {
      args.addAll(List.of("-b", bootstrap(), "--port", "0", "--config", config.toString()));
    }
    ChildProcess child = ChildProcess.start(Map.of(), args.toArray(String[]::new));
    running.put(name, child);
    String line = child.awaitLine("prefstream: ready " + service, READY);
    readyLines.put(name, line);
    return line;
  }

  /** The value of {@code key=} on a service's ready line (e.g. its uri). */
  String ready(String name, String key) {
    String line = readyLines.get(name);
    int at = line.indexOf(key + "=");
    String rest = line.substring(at + key.length() + 1);
    int end = rest.indexOf(' ');
    return end < 0 ? rest : rest.substring(0, end);
  }

  Path dir(String name) {
    return root.resolve(name);
  }

  /** SIGKILL: no shutdown hook runs, nothing is flushed or checkpointed. */
  void kill(String name) throws InterruptedException {
    ChildProcess child = running.remove(name);
    child.kill(Duration.ofSeconds(30));
    child.close();
  }

  /** SIGTERM, and waits for a clean stop. */
  void stop(String name) throws InterruptedException {
    ChildProcess child = running.remove(name);
    child.terminate(Duration.ofSeconds(90));
    child.close();
  }

  String output(String name) {
    ChildProcess child = running.get(name);
    return child == null ? "(not running)" : child.output();
  }

  @Override
  public void close() {
    List<String> names = new ArrayList<>(running.keySet());
    java.util.Collections.reverse(names); // the broker last
    for (String name : names) {
      try {
        stop(name);
      } catch (Exception | AssertionError e) {
        running.remove(name);
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
