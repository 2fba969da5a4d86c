package io.prefstream.pairs;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.PreferencePair;
import io.prefstream.simulator.SimulatedEvent;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import io.prefstream.testing.KafkaFixture;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A task manager is killed while the pair builder runs; the job restarts from its last checkpoint
 * and a read_committed reader sees exactly the pairs of an undisturbed run over the same events.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PairBuilderFailureIT {

  // Two task managers with one slot each and parallelism 2: both hold a share of the job.
  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(2)
              .setNumberSlotsPerTaskManager(1)
              .build());

  @RegisterExtension static final KafkaFixture KAFKA = KafkaFixture.suite("pairs");

  @Test
  void killedTaskManagerRestartsFromCheckpointWithNothingLostAndNothingTwice(
      @InjectMiniCluster MiniCluster cluster) throws Exception {
    PairTopics input = PairTopics.create(KAFKA);
    Simulator simulator =
        new Simulator(
            SimulatorConfig.builder(Instant.now().minus(Duration.ofHours(3))).optSeed(11).build());
    List<FeedbackEvent> events =
        simulator.next(80_000).stream()
            .filter(e -> !e.isMalformed())
            .map(SimulatedEvent::event)
            .toList();
    input.send(events);

    PairTopics calm = PairTopics.create(KAFKA);
    run(input, calm).getJobExecutionResult().get(120, TimeUnit.SECONDS);
    Map<String, PreferencePair> expected =
        byId(PairTopics.readCommitted(KAFKA, calm.topics.pairs()));
    assertThat(expected).hasSizeGreaterThan(10_000);

    PairTopics disturbed = PairTopics.create(KAFKA);
    JobClient job = run(input, disturbed);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (PairTopics.readCommitted(KAFKA, disturbed.topics.pairs()).isEmpty()) {
      assertThat(System.nanoTime()).as("first committed pairs").isLessThan(deadline);
      Thread.sleep(100);
    }
    cluster.terminateTaskManager(0).get(30, TimeUnit.SECONDS);
    cluster.startTaskManager();
    job.getJobExecutionResult().get(120, TimeUnit.SECONDS);

    assertThat(
            cluster
                .getArchivedExecutionGraph(job.getJobID())
                .get()
                .getStatusTimestamp(JobStatus.RESTARTING))
        .as("the job restarted after losing a task manager")
        .isPositive();
    List<PreferencePair> seen = PairTopics.readCommitted(KAFKA, disturbed.topics.pairs());
    Map<String, PreferencePair> actual = byId(seen);
    assertThat(seen).as("no pair twice").hasSameSizeAs(actual.values());
    assertThat(actual.keySet()).as("no pair lost, none added").isEqualTo(expected.keySet());
    assertThat(actual).as("same pairs, field by field").isEqualTo(expected);
  }

  private static JobClient run(PairTopics input, PairTopics output) throws Exception {
    Map<String, String> settings = new HashMap<>();
    settings.put("pairs.parallelism", "2");
    settings.put("flink.restart-strategy.type", "fixed-delay");
    settings.put("flink.restart-strategy.fixed-delay.attempts", "5");
    settings.put("flink.restart-strategy.fixed-delay.delay", "500 ms");
    PairBuilderConfig config = output.config(settings);
    PairBuilderJob job = PairBuilderJob.kafka(config, input.topics, output.topics, true);
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(
            PairBuilderJob.flinkConfiguration(config));
    return job.executeAsync(env);
  }

  private static Map<String, PreferencePair> byId(List<PreferencePair> pairs) {
    return pairs.stream()
        .collect(Collectors.toMap(PreferencePair::getPairId, Function.identity(), (a, b) -> a));
  }
}
