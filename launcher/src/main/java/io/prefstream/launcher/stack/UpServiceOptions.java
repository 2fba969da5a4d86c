package io.prefstream.launcher.stack;

import io.prefstream.config.Settings;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options of the services that {@code up} starts: their ports and config file. */
public final class UpServiceOptions {

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
              + " (trainer/README.md), scorer.*, rollout.* keys (scorer/README.md) and monitor.*"
              + " keys (monitor/README.md); PREFSTREAM_* environment variables override it, the"
              + " --*-port options override both.")
  Path configFile;

  /** The config file's settings (empty without one). */
  public Settings fileSettings() {
    return configFile == null ? Settings.empty() : Settings.fromFile(configFile);
  }

  /** These ports and the config file on a stack's services. */
  public LocalStack.Builder applyTo(LocalStack.Builder stack) {
    return stack
        .optConfig(fileSettings())
        .optPort(ServiceKind.INGEST, port)
        .optPort(ServiceKind.SCORER, scorerPort)
        .optPort(ServiceKind.MONITOR, monitorPort);
  }
}
