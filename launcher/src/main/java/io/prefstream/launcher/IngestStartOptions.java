package io.prefstream.launcher;

import io.prefstream.config.Settings;
import io.prefstream.ingest.ApiKeys;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.IngestOptions;
import io.prefstream.ingest.IngestServer;
import io.prefstream.schemas.Topics;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options of the ingest service that {@code up} starts: port and config file. */
public final class IngestStartOptions {

  @Option(
      names = "--ingest-port",
      paramLabel = "PORT",
      defaultValue = "${env:PREFSTREAM_INGEST_PORT:-8080}",
      description = "Port of the ingest HTTP API; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(
      names = "--scorer-port",
      paramLabel = "PORT",
      defaultValue = "${env:PREFSTREAM_SCORER_PORT:-8081}",
      description = "Port of the scorer HTTP API; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
  int scorerPort;

  @Option(
      names = "--monitor-port",
      paramLabel = "PORT",
      defaultValue = "${env:PREFSTREAM_MONITOR_PORT:-8082}",
      description =
          "Port of the drift monitor's queries and metrics; 0 picks a free one. Default:"
              + " ${DEFAULT-VALUE}.")
  int monitorPort;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "Properties file of ingest.* keys (ingest/README.md), pairs.*, flink.*, kafka.* keys"
              + " of the pair builder (stream-processors/README.md), trainer.* and model.* keys"
              + " (trainer/README.md) and scorer.*, rollout.* keys (scorer/README.md);"
              + " PREFSTREAM_* environment variables override it, --ingest-port and --scorer-port"
              + " override both.")
  Path configFile;

  /** The config file's settings (empty without one). */
  public Settings fileSettings() {
    return configFile == null ? Settings.empty() : Settings.fromFile(configFile);
  }

  /** Starts ingest against a broker and waits until it has read its idempotency window. */
  public IngestServer start(String bootstrap, Topics topics, PrintWriter out) {
    Settings settings =
        fileSettings().overriddenBy(Settings.fromEnv(System.getenv(), IngestOptions.ALL));
    IngestConfig config;
    ApiKeys keys;
    try {
      config = IngestConfig.from(settings).withPort(port);
      keys = ApiKeys.fromEnvironment(System.getenv());
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
    IngestServer server;
    try {
      server =
          new IngestServer(
                  config, keys, topics, Map.of("bootstrap.servers", bootstrap), Clock.systemUTC())
              .start();
    } catch (RuntimeException e) {
      throw new UserError("ingest could not start on port " + port + ": " + e.getMessage(), e);
    }
    try {
      if (!server.awaitReady(Duration.ofMinutes(5))) {
        out.println(
            "prefstream: ingest is still reading its idempotency window; answering 503 until done");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (keys.isLocalDefault()) {
      out.println(
          "prefstream: no "
              + ApiKeys.ENV
              + " set: tenant '"
              + ApiKeys.DEMO_TENANT
              + "' with API key '"
              + ApiKeys.DEMO_KEY
              + "' (local default)");
    } else {
      out.println("prefstream: API keys for tenants " + keys.tenants() + " from " + keys.source());
    }
    return server;
  }
}
