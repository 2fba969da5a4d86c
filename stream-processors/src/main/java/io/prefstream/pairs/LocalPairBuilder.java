package io.prefstream.pairs;

import io.prefstream.config.KafkaConnection;
import io.prefstream.config.Settings;
import io.prefstream.schemas.Topics;
import io.prefstream.service.Service;
import io.prefstream.service.ServiceException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/**
 * The pair-builder job on a Flink MiniCluster inside this process, as {@link PairBuilderMain},
 * {@code prefstream run pair-builder}, {@code up} and {@code demo} run it. Checkpoints are kept in
 * {@code pairs.local-state-dir} (the in-memory default is limited to 5 MB) and a restart over the
 * same directory resumes from the latest.
 */
public final class LocalPairBuilder implements Service {

  private final PairBuilderConfig config;
  private final Topics topics;
  private final JobClient job;
  private final String recoveredFrom;
  private volatile boolean closing;

  private LocalPairBuilder(
      PairBuilderConfig config, Topics topics, JobClient job, String recoveredFrom) {
    this.config = config;
    this.topics = topics;
    this.job = job;
    this.recoveredFrom = recoveredFrom;
    onUnexpectedEnd(reason -> ended = reason);
  }

  private volatile String ended;
  private URI restUri;

  /**
   * The local Flink cluster's REST endpoint and web UI (no authentication: on {@code
   * pairs.local-rest-address}, loopback by default), when its port is known.
   */
  public Optional<URI> restUri() {
    return Optional.ofNullable(restUri);
  }

  private static int freePort(String address) {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(address))) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new ServiceException(
          "pair builder: cannot listen on pairs.local-rest-address " + address + ": " + e, e);
    }
  }

  /**
   * Null while the job runs (or was stopped by {@link #close}); else why it ended on its own: it
   * failed beyond its restart strategy, or was cancelled from outside.
   */
  public String problem() {
    return ended;
  }

  /**
   * Submits the job.
   *
   * @param settings {@code pairs.*}, {@code flink.*} and {@code kafka.*} keys, fully merged; the
   *     local defaults (one task slot, Flink's REST endpoint on a free port, checkpoints in {@code
   *     pairs.local-state-dir}) lie beneath them
   * @throws ServiceException naming a bad setting, or when the job cannot start
   */
  public static LocalPairBuilder start(Settings settings) {
    Path stateDir;
    String restAddress;
    try {
      stateDir = Path.of(settings.get(PairBuilderOptions.LOCAL_STATE_DIR));
      restAddress = settings.get(PairBuilderOptions.LOCAL_REST_ADDRESS);
    } catch (IllegalArgumentException e) {
      throw new ServiceException("pair builder: " + e.getMessage(), e);
    }
    Map<String, String> local = new HashMap<>(LocalFlinkMetrics.configure());
    // Flink's REST endpoint on a free port (8081 is the scorer's), picked here so it can be told.
    local.put("flink.rest.bind-port", Integer.toString(freePort(restAddress)));
    // ... on this machine only unless asked: it takes no credentials and can cancel the job.
    local.put("flink.rest.bind-address", restAddress);
    local.put("flink.rest.address", restAddress);
    // One task slot's worth of work: the broker, ingest and the rest share these cores.
    local.put(PairBuilderOptions.PARALLELISM.key(), "1");
    String recoveredFrom = null;
    Path checkpoints = stateDir.resolve("flink-checkpoints");
    local.put("flink.execution.checkpointing.dir", checkpoints.toUri().toString());
    local.put(
        "flink.execution.checkpointing.externalized-checkpoint-retention",
        "RETAIN_ON_CANCELLATION");
    local.put("flink.execution.checkpointing.num-retained", "2");
    Optional<Path> latest = latestCheckpoint(checkpoints);
    if (latest.isPresent()) {
      recoveredFrom = latest.get().toString();
      local.put("flink.execution.state-recovery.path", latest.get().toUri().toString());
    }
    PairBuilderConfig config;
    try {
      config = PairBuilderConfig.from(Settings.of(local).overriddenBy(settings));
    } catch (IllegalArgumentException e) {
      throw new ServiceException("pair builder: " + e.getMessage(), e);
    }
    KafkaConnection.requireAtStart("pair builder", config.bootstrapServers(), config.kafka());
    try {
      StreamExecutionEnvironment env =
          StreamExecutionEnvironment.getExecutionEnvironment(
              PairBuilderJob.flinkConfiguration(config));
      JobClient job = PairBuilderJob.kafka(config).executeAsync(env);
      LocalPairBuilder started =
          new LocalPairBuilder(config, Topics.withPrefix(config.topicPrefix()), job, recoveredFrom);
      String port = config.flink().get("rest.bind-port");
      String address = config.flink().getOrDefault("rest.bind-address", restAddress);
      if (port != null && port.matches("\\d+")) {
        started.restUri =
            URI.create(
                "http://" + (address.equals("0.0.0.0") ? "localhost" : address) + ":" + port + "/");
      }
      return started;
    } catch (Exception e) {
      throw new ServiceException(
          "pair builder could not start on the local Flink cluster: " + e, e);
    }
  }

  /**
   * Calls {@code report} with a one-line reason if the job ends on its own (it runs until stopped,
   * so an end means it failed beyond its restart strategy); a cancel by {@link #close} is quiet.
   */
  public void onUnexpectedEnd(java.util.function.Consumer<String> report) {
    job.getJobExecutionResult()
        .whenComplete(
            (result, error) -> {
              if (closing) {
                return;
              }
              Throwable cause = error;
              while (cause != null && cause.getCause() != null) {
                cause = cause.getCause();
              }
              report.accept(
                  "pair builder job "
                      + job.getJobID()
                      + " ended"
                      + (cause == null ? "" : ": " + cause));
            });
  }

  /** The checkpoint a restart resumed from, if any. */
  public Optional<String> recoveredFrom() {
    return Optional.ofNullable(recoveredFrom);
  }

  public PairBuilderConfig config() {
    return config;
  }

  public JobStatus status() {
    try {
      return job.getJobStatus().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      return JobStatus.FAILED;
    }
  }

  public String jobId() {
    return job.getJobID().toString();
  }

  /**
   * Waits until the job has read the feedback topic to its current end (its source's current offset
   * per partition, from the job's metrics), then for two checkpoints, which commit the stated pairs
   * of what it read. The consumer group's committed offsets would say the same, but the Kafka
   * source commits them only when its next poll returns, up to 10 s after the last record.
   */
  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<Integer, Long> ends = new HashMap<>();
    try (Admin admin =
        Admin.create(KafkaConnection.client(config.bootstrapServers(), config.kafka()))) {
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (int p = 0; p < topics.feedback().partitions(); p++) {
        latest.put(new TopicPartition(topics.feedback().name(), p), OffsetSpec.latest());
      }
      admin
          .listOffsets(latest)
          .all()
          .get()
          .forEach((tp, info) -> ends.put(tp.partition(), info.offset()));
    } catch (java.util.concurrent.ExecutionException e) {
      throw new ServiceException("pair builder: cannot read offsets: " + e.getCause(), e);
    }
    // The connector's metric group spells the topic with '_' for '.'.
    String prefix =
        ".KafkaSourceReader.topic." + topics.feedback().name().replace('.', '_') + ".partition.";
    while (System.nanoTime() < deadline) {
      if (ended != null) {
        return false; // it will read nothing more
      }
      boolean caughtUp =
          ends.entrySet().stream()
              .allMatch(
                  e ->
                      e.getValue() == 0
                          // currentOffset is the offset of the last record read
                          || LocalFlinkMetrics.max(
                                  id -> id.endsWith(prefix + e.getKey() + ".currentOffset"))
                              >= e.getValue() - 1);
      if (caughtUp) {
        Thread.sleep(2 * config.checkpointInterval().toMillis());
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }

  /**
   * Stops the job with a final savepoint after advancing event time to its end, so every open
   * interaction becomes final and its derived pairs are committed (the demo's last step).
   */
  public void drain(Path savepointDir) {
    closing = true;
    try {
      job.stopWithSavepoint(true, savepointDir.toUri().toString(), SavepointFormatType.CANONICAL)
          .get(2, TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new ServiceException("pair builder: could not drain the job: " + e, e);
    }
  }

  @Override
  public String ready() {
    return "job=" + jobId() + recoveredFrom().map(c -> " resumed=" + c).orElse(" resumed=none");
  }

  @Override
  public void close() {
    closing = true;
    try {
      job.cancel().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      // Already finished or failed; the MiniCluster goes with the job.
    }
  }

  /** The newest completed checkpoint ({@code <job>/chk-N/_metadata}) under a directory. */
  public static Optional<Path> latestCheckpoint(Path dir) {
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    try (Stream<Path> jobs = Files.list(dir)) {
      List<Path> candidates =
          jobs.filter(Files::isDirectory)
              .flatMap(LocalPairBuilder::checkpointsOf)
              .filter(chk -> Files.exists(chk.resolve("_metadata")))
              .toList();
      return candidates.stream().max(Comparator.comparing(LocalPairBuilder::modified));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Stream<Path> checkpointsOf(Path jobDir) {
    try (Stream<Path> children = Files.list(jobDir)) {
      return children.filter(p -> p.getFileName().toString().startsWith("chk-")).toList().stream();
    } catch (IOException e) {
      return Stream.empty();
    }
  }

  private static long modified(Path p) {
    try {
      return Files.getLastModifiedTime(p.resolve("_metadata")).toMillis();
    } catch (IOException e) {
      return 0;
    }
  }
}
