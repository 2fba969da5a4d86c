package io.prefstream.launcher.bench;

import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.SourceKind;
import io.prefstream.config.Settings;
import io.prefstream.launcher.KafkaClients;
import io.prefstream.launcher.UserError;
import io.prefstream.local.LocalKafka;
import io.prefstream.pairs.PairBuilderConfig;
import io.prefstream.pairs.PairBuilderJob;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import io.prefstream.simulator.SimulatedEvent;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bench pairs}: simulated-product events written to Kafka beforehand, then read to the end
 * by the pair builder (exactly-once pairs) and, alternating, by a Flink job that copies the same
 * records Kafka to Kafka exactly once with no logic; both on the same local MiniCluster settings.
 * Then a live phase: events produced at a steady rate while the job runs, measuring the time from
 * an event's occurrence to its stated pair being visible to a read_committed reader.
 */
@Command(
    name = "pairs",
    mixinStandardHelpOptions = true,
    description =
        "Pair builder vs an exactly-once Kafka-to-Kafka copy job over the same events; then"
            + " event-to-pair latency at a steady rate; last line: JSON figures.")
public final class BenchPairsCommand implements Runnable {

  private static final Set<SourceKind> STATED =
      EnumSet.of(SourceKind.LABELED_PAIR, SourceKind.PAIRWISE_CHOICE, SourceKind.RANKING);

  @Option(
      names = "--events",
      description =
          "Events written beforehand; enough that a job's start is small beside its run. Default:"
              + " ${DEFAULT-VALUE}.",
      defaultValue = "1500000")
  int events;

  @Option(
      names = "--rounds",
      description =
          "Measured rounds of each job, alternating, after one warm-up round. Default:"
              + " ${DEFAULT-VALUE}.",
      defaultValue = "3")
  int rounds;

  @Option(
      names = "--parallelism",
      description = "Parallelism of both jobs. Default: ${DEFAULT-VALUE}.",
      defaultValue = "1")
  int parallelism;

  @Option(
      names = "--checkpoint-interval",
      description = "Checkpoint interval of both jobs. Default: ${DEFAULT-VALUE}.",
      defaultValue = "1s")
  String checkpointInterval;

  @Option(
      names = "--latency-rate",
      description =
          "Events/s offered during the latency phase (the simulated product generating them shares"
              + " the cores with the job and the broker). Default: ${DEFAULT-VALUE}.",
      defaultValue = "20000")
  int latencyRate;

  @Option(
      names = "--latency-seconds",
      description = "Length of the latency phase. Default: ${DEFAULT-VALUE}.",
      defaultValue = "20")
  int latencySeconds;

  @Spec CommandSpec spec;

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "bench pairs: %,d events, %d rounds per job, parallelism %d, checkpoints every %s, %d"
            + " cores%n",
        events,
        rounds,
        parallelism,
        checkpointInterval,
        Runtime.getRuntime().availableProcessors());
    Topics input = Topics.withPrefix("bench-pairs-in");
    try (LocalKafka kafka = LocalKafka.builder().optPort(0).optTopics(input).build().start()) {
      long written = writeEvents(kafka, input.feedback(), out);
      List<Double> copy = new ArrayList<>();
      List<Double> pairs = new ArrayList<>();
      // Each round runs both jobs back to back: their ratio is less exposed to the machine's
      // drift between rounds than the ratio of the medians.
      List<Double> paired = new ArrayList<>();
      long pairCount = 0;
      // Round 0 warms the JIT up for both jobs and is not counted.
      for (int round = 0; round <= rounds; round++) {
        // Which job goes first alternates: the second one of a round shares the machine with the
        // broker still writing back the first one's output.
        double c;
        PairRound p;
        if (round % 2 == 0) {
          c = copyRound(kafka, input, round, written);
          p = pairRound(kafka, input, round, written);
        } else {
          p = pairRound(kafka, input, round, written);
          c = copyRound(kafka, input, round, written);
        }
        if (round > 0) {
          copy.add(c);
          pairs.add(p.eventsPerSecond);
          paired.add(p.eventsPerSecond / c);
        }
        pairCount = p.pairs;
        out.printf(
            "%s: copy job %,.0f events/s, pair builder %,.0f events/s (%.2f), %,d pairs%n",
            round == 0 ? "warm-up" : "round " + round,
            c,
            p.eventsPerSecond,
            p.eventsPerSecond / c,
            p.pairs);
        out.flush();
      }
      double copyMedian = Bench.median(copy);
      double pairsMedian = Bench.median(pairs);
      double pairedMedian = Bench.median(paired);
      out.printf(
          "median: pair builder %,.0f events/s, copy job %,.0f events/s, ratio %.2f (median of"
              + " the rounds' ratios %.2f)%n",
          pairsMedian, copyMedian, pairsMedian / copyMedian, pairedMedian);
      int rate = latencyRate;
      Latency latency = latency(kafka, rate, out);
      out.printf(
          "stated pairs, occurrence to visible (read_committed) at %,d events/s offered (%,.0f"
              + " sent): p50 %.0f ms, p99 %.0f ms over %,d pairs%n",
          rate, latency.sentPerSecond, latency.p50Ms, latency.p99Ms, latency.count);
      BenchLine figures =
          BenchLine.of("pairs", pairsMedian, "events/s", "flink_copy_job_exactly_once", copyMedian);
      figures.with("paired_ratio_median", Math.round(pairedMedian * 1000) / 1000.0);
      figures.with("events", written);
      figures.with("pairs", pairCount);
      figures.with("parallelism", parallelism);
      figures.with("latency_rate", rate);
      figures.with("p50_stated_pair_latency_ms", Math.round(latency.p50Ms));
      figures.with("p99_stated_pair_latency_ms", Math.round(latency.p99Ms));
      out.println(figures);
      out.flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted", e);
    } catch (UserError e) {
      throw e;
    } catch (Exception e) {
      throw new UserError("bench pairs failed: " + e, e);
    }
  }

  private PairBuilderConfig config(LocalKafka kafka, String outputPrefix) {
    Map<String, String> map = new HashMap<>();
    map.put("pairs.bootstrap-servers", kafka.bootstrapServers());
    map.put("pairs.topic-prefix", outputPrefix);
    map.put("pairs.group-id", outputPrefix);
    map.put("pairs.transactional-id-prefix", outputPrefix);
    map.put("pairs.starting-offsets", "earliest");
    map.put("pairs.parallelism", Integer.toString(parallelism));
    map.put("pairs.checkpoint-interval", checkpointInterval);
    map.put(
        "flink.execution.checkpointing.dir",
        kafka.dataDir().resolve("flink-checkpoints").toUri().toString());
    return PairBuilderConfig.from(Settings.of(map));
  }

  private static StreamExecutionEnvironment env(PairBuilderConfig config) {
    return StreamExecutionEnvironment.getExecutionEnvironment(
        PairBuilderJob.flinkConfiguration(config));
  }

  /** Simulated-product events (whole interactions), written once before the rounds. */
  private long writeEvents(LocalKafka kafka, Topic<FeedbackEvent> topic, PrintWriter out) {
    Simulator simulator =
        new Simulator(
            SimulatorConfig.builder(Instant.now().minus(Duration.ofDays(1)))
                .optStep(Duration.ofMillis(100))
                .build());
    long count = 0;
    long started = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaClients(kafka.bootstrapServers(), Duration.ofSeconds(30)).producer()) {
      while (count < events) {
        for (SimulatedEvent e : simulator.nextInteraction()) {
          if (e.isMalformed()) {
            continue;
          }
          producer.send(record(topic, e.event()));
          count++;
        }
      }
      producer.flush();
    }
    out.printf(
        "wrote %,d simulated-product events in %.1f s%n",
        count, (System.nanoTime() - started) / 1e9);
    return count;
  }

  private static ProducerRecord<byte[], byte[]> record(
      Topic<FeedbackEvent> topic, FeedbackEvent event) {
    return new ProducerRecord<>(
        topic.name(),
        topic.key(event).getBytes(StandardCharsets.UTF_8),
        topic.valueSerde().serialize(topic.name(), event));
  }

  private double copyRound(LocalKafka kafka, Topics input, int round, long written)
      throws Exception {
    Topics output = Topics.withPrefix("bench-copy-" + round);
    Bench.createTopics(kafka, output);
    PairBuilderConfig config = config(kafka, output.prefix());
    JobExecutionResult result =
        CopyJob.run(
            env(config),
            kafka.bootstrapServers(),
            input.feedback().name(),
            output.feedback().name(),
            output.prefix(),
            PairBuilderJob.producerProperties(config));
    return written / (result.getNetRuntime(TimeUnit.MILLISECONDS) / 1000.0);
  }

  private record PairRound(double eventsPerSecond, long pairs) {}

  private PairRound pairRound(LocalKafka kafka, Topics input, int round, long written)
      throws Exception {
    Topics output = Topics.withPrefix("bench-pairs-" + round);
    Bench.createTopics(kafka, output);
    PairBuilderConfig config = config(kafka, output.prefix());
    JobExecutionResult result =
        PairBuilderJob.kafka(config, input, output, true).execute(env(config));
    long pairs = committed(kafka, output.pairs());
    return new PairRound(written / (result.getNetRuntime(TimeUnit.MILLISECONDS) / 1000.0), pairs);
  }

  /** Committed records of a topic. */
  private static long committed(LocalKafka kafka, Topic<?> topic) {
    return new KafkaClients(kafka.bootstrapServers(), Duration.ofSeconds(30))
        .readCommitted(topic, v -> {});
  }

  private record Latency(double p50Ms, double p99Ms, long count, double sentPerSecond) {}

  /**
   * The job runs unbounded on fresh topics; a producer sends new interactions at {@code rate}
   * events/s, stamping each event with the time it is sent; a read_committed consumer measures now
   * minus each stated pair's event time (its latest event's time).
   */
  private Latency latency(LocalKafka kafka, int rate, PrintWriter out) throws Exception {
    Topics live = Topics.withPrefix("bench-pairs-live");
    Bench.createTopics(kafka, live);
    PairBuilderConfig config = config(kafka, live.prefix());
    JobClient job = PairBuilderJob.kafka(config).executeAsync(env(config));
    AtomicBoolean sending = new AtomicBoolean(true);
    AtomicLong sent = new AtomicLong();
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    long warmUpNanos = TimeUnit.SECONDS.toNanos(3);
    long start = System.nanoTime();
    Thread producerThread =
        new Thread(
            () -> produceAtRate(kafka, live.feedback(), rate, sending, sent), "bench-producer");
    Thread consumerThread =
        new Thread(
            () -> {
              try (KafkaConsumer<byte[], byte[]> consumer =
                  new KafkaClients(kafka.bootstrapServers(), Duration.ofSeconds(30)).consumer()) {
                List<TopicPartition> partitions = new ArrayList<>();
                for (int p = 0; p < live.pairs().partitions(); p++) {
                  partitions.add(new TopicPartition(live.pairs().name(), p));
                }
                consumer.assign(partitions);
                while (sending.get() || System.nanoTime() - start < warmUpNanos) {
                  for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                    long now = System.currentTimeMillis();
                    PreferencePair pair =
                        live.pairs().valueSerde().deserialize(r.topic(), r.value());
                    if (STATED.contains(pair.getSource())
                        && System.nanoTime() - start > warmUpNanos) {
                      latencies.add(now - pair.getEventTime().toEpochMilli());
                    }
                  }
                }
              }
            },
            "bench-consumer");
    producerThread.start();
    consumerThread.start();
    Thread.sleep(TimeUnit.SECONDS.toMillis(latencySeconds) + warmUpNanos / 1_000_000);
    sending.set(false);
    producerThread.join(30_000);
    consumerThread.join(30_000);
    double elapsed = (System.nanoTime() - start) / 1e9;
    job.cancel().get(60, TimeUnit.SECONDS);
    long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
    out.printf("latency phase: %,d events sent in %.0f s%n", sent.get(), elapsed);
    return new Latency(
        Bench.percentile(sorted, 0.50),
        Bench.percentile(sorted, 0.99),
        sorted.length,
        sent.get() / elapsed);
  }

  /** Fresh simulated interactions at a steady rate, each event stamped with its send time. */
  private static void produceAtRate(
      LocalKafka kafka,
      Topic<FeedbackEvent> topic,
      int rate,
      AtomicBoolean sending,
      AtomicLong sent) {
    Simulator simulator = new Simulator(SimulatorConfig.builder(Instant.now()).optSeed(99).build());
    long started = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaClients(kafka.bootstrapServers(), Duration.ofSeconds(30)).producer()) {
      while (sending.get()) {
        for (SimulatedEvent e : simulator.nextInteraction()) {
          if (e.isMalformed()) {
            continue;
          }
          long due = started + sent.get() * 1_000_000_000L / rate;
          long wait = due - System.nanoTime();
          if (wait > 0) {
            try {
              TimeUnit.NANOSECONDS.sleep(wait);
            } catch (InterruptedException ex) {
              return;
            }
          }
          Instant now = Instant.now();
          FeedbackEvent event = e.event();
          event.setOccurredAt(now);
          event.setReceivedAt(now);
          producer.send(record(topic, event));
          sent.incrementAndGet();
        }
      }
    }
  }
}
