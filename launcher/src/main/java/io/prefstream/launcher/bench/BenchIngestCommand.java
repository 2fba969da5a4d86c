package io.prefstream.launcher.bench;

import io.prefstream.avro.FeedbackEvent;
import io.prefstream.config.Settings;
import io.prefstream.http.ApiKeys;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.IngestServer;
import io.prefstream.launcher.UserError;
import io.prefstream.local.LocalKafka;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import io.prefstream.simulator.SimulatedEvent;
import io.prefstream.simulator.Simulator;
import io.prefstream.simulator.SimulatorConfig;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bench ingest}: simulated-product events in NDJSON batches from several client threads
 * against ingest on the embedded broker, vs a raw {@link KafkaProducer} sending the same Avro
 * records with the same settings; rounds alternate and medians are reported.
 */
@Command(
    name = "ingest",
    mixinStandardHelpOptions = true,
    description =
        "Ingest over HTTP vs a raw KafkaProducer with the same records; last line: JSON figures.")
public final class BenchIngestCommand implements Runnable {

  @Option(
      names = "--seconds",
      description = "Length of each round. Default: ${DEFAULT-VALUE}.",
      defaultValue = "8")
  int seconds;

  @Option(
      names = "--rounds",
      description = "Rounds of each side, alternating. Default: ${DEFAULT-VALUE}.",
      defaultValue = "3")
  int rounds;

  @Option(
      names = "--threads",
      description = "Client threads. Default: ${DEFAULT-VALUE}.",
      defaultValue = "4")
  int threads;

  @Option(
      names = "--batch",
      description = "Events per request. Default: ${DEFAULT-VALUE}.",
      defaultValue = "500")
  int batch;

  @Spec CommandSpec spec;

  private final AtomicLong ids = new AtomicLong();

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "bench ingest: %d rounds x %d s per side, %d client threads, %d events per request, %d cores%n",
        rounds, seconds, threads, batch, Runtime.getRuntime().availableProcessors());
    Topics ingestTopics = Topics.withPrefix("bench-ingest");
    Topics rawTopics = Topics.withPrefix("bench-raw");
    List<FeedbackEvent> pool = pool();
    try (LocalKafka kafka =
        LocalKafka.builder().optPort(0).optTopics(ingestTopics).build().start()) {
      Bench.createTopics(kafka, rawTopics);
      // No quota: the bench measures what one tenant can push through ingest at all.
      IngestConfig config =
          IngestConfig.from(
                  Settings.of(
                      Map.of(
                          "ingest.max-events", Integer.toString(Math.max(1000, batch)),
                          "ingest.quota.events-per-second", "0",
                          "ingest.quota.bytes-per-second", "0")))
              .withPort(0);
      try (IngestServer ingest =
          new IngestServer(
                  config,
                  ApiKeys.localDefault(),
                  ingestTopics,
                  Map.of("bootstrap.servers", kafka.bootstrapServers()),
                  Clock.systemUTC())
              .start()) {
        ingest.awaitReady(Duration.ofSeconds(60));
        List<Double> raw = new ArrayList<>();
        List<Double> viaIngest = new ArrayList<>();
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        for (int round = 1; round <= rounds; round++) {
          double r = rawProducer(kafka, rawTopics.feedback(), pool);
          double i = ingest(ingest.uri(), pool, latencies);
          raw.add(r);
          viaIngest.add(i);
          out.printf(
              "round %d: raw KafkaProducer %,.0f events/s, ingest %,.0f events/s (%.2f)%n",
              round, r, i, i / r);
          out.flush();
        }
        double rawMedian = Bench.median(raw);
        double ingestMedian = Bench.median(viaIngest);
        long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        double p50 = Bench.percentile(sorted, 0.50) / 1e6;
        double p99 = Bench.percentile(sorted, 0.99) / 1e6;
        out.printf(
            "median: ingest %,.0f accepted events/s, raw KafkaProducer %,.0f events/s, ratio %.2f%n",
            ingestMedian, rawMedian, ingestMedian / rawMedian);
        out.printf(
            "ingest request latency (%d events each): p50 %.1f ms, p99 %.1f ms over %d requests%n",
            batch, p50, p99, sorted.length);
        BenchLine figures =
            BenchLine.of("ingest", ingestMedian, "events/s", "raw_kafka_producer", rawMedian);
        figures.with("p50_ms", Math.round(p50 * 10) / 10.0);
        figures.with("p99_ms", Math.round(p99 * 10) / 10.0);
        figures.with("batch", batch);
        figures.with("threads", threads);
        out.println(figures);
        out.flush();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted", e);
    }
  }

  /** Valid simulated-product events, recent enough to pass ingest's time rules. */
  private static List<FeedbackEvent> pool() {
    Instant start = Instant.now().minus(Duration.ofMinutes(30));
    Simulator simulator =
        new Simulator(SimulatorConfig.builder(start).optStep(Duration.ofMillis(50)).build());
    List<FeedbackEvent> events = new ArrayList<>();
    for (SimulatedEvent e : simulator.next(20_000)) {
      events.add(e.event());
    }
    return events;
  }

  /** The baseline: the same records, encoded per send, through a producer set up as ingest's. */
  private double rawProducer(LocalKafka kafka, Topic<FeedbackEvent> topic, List<FeedbackEvent> pool)
      throws InterruptedException {
    Map<String, Object> config =
        Map.of(
            "bootstrap.servers",
            kafka.bootstrapServers(),
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            true,
            ProducerConfig.LINGER_MS_CONFIG,
            5,
            ProducerConfig.BATCH_SIZE_CONFIG,
            256 * 1024,
            ProducerConfig.COMPRESSION_TYPE_CONFIG,
            "lz4",
            ProducerConfig.BUFFER_MEMORY_CONFIG,
            64L * 1024 * 1024);
    AtomicLong acked = new AtomicLong();
    AtomicBoolean running = new AtomicBoolean(true);
    // Bound unacknowledged records like ingest's in-flight budget, so neither side just fills
    // memory.
    Semaphore inFlight = new Semaphore(threads * batch * 4);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
      List<Thread> workers = new ArrayList<>();
      long[] window = new long[2];
      for (int t = 0; t < threads; t++) {
        int offset = t * 997;
        Thread worker =
            new Thread(
                () -> {
                  // A copy per thread, made in the warm-up, so a send only sets the id and time.
                  List<FeedbackEvent> own =
                      pool.stream().map(e -> FeedbackEvent.newBuilder(e).build()).toList();
                  int i = offset;
                  while (running.get()) {
                    FeedbackEvent event = own.get(i++ % own.size());
                    event.setEventId("raw-" + ids.incrementAndGet());
                    event.setReceivedAt(Instant.now());
                    try {
                      inFlight.acquire();
                    } catch (InterruptedException e) {
                      return;
                    }
                    producer.send(
                        new ProducerRecord<>(
                            topic.name(),
                            topic.key(event).getBytes(StandardCharsets.UTF_8),
                            topic.valueSerde().serialize(topic.name(), event)),
                        (meta, error) -> {
                          inFlight.release();
                          if (error == null) {
                            acked.incrementAndGet();
                          }
                        });
                  }
                });
        workers.add(worker);
      }
      workers.forEach(Thread::start);
      return measure(acked, running, workers);
    }
  }

  /** NDJSON batches over HTTP, each thread one request at a time, counting accepted events. */
  private double ingest(URI uri, List<FeedbackEvent> pool, List<Long> latencies)
      throws InterruptedException {
    JsonForm<FeedbackEvent> form = JsonForm.of(FeedbackEvent.class);
    // Each line is its event's JSON after the event_id, so a fresh id costs one concatenation.
    List<String> tails = new ArrayList<>(pool.size());
    for (FeedbackEvent e : pool) {
      String json = form.print(e);
      String head = "{\"event_id\":\"" + e.getEventId() + "\"";
      if (!json.startsWith(head)) {
        throw new IllegalStateException("event_id is expected first in " + json);
      }
      tails.add(json.substring(head.length()));
    }
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI endpoint = uri.resolve("/v1/events");
    AtomicLong accepted = new AtomicLong();
    AtomicBoolean running = new AtomicBoolean(true);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int offset = t * 997;
      Thread worker =
          new Thread(
              () -> {
                int i = offset;
                StringBuilder body = new StringBuilder(batch * 700);
                while (running.get()) {
                  body.setLength(0);
                  for (int k = 0; k < batch; k++) {
                    body.append("{\"event_id\":\"b-")
                        .append(ids.incrementAndGet())
                        .append('"')
                        .append(tails.get(i++ % tails.size()))
                        .append('\n');
                  }
                  HttpRequest request =
                      HttpRequest.newBuilder(endpoint)
                          .header("Authorization", "Bearer " + ApiKeys.DEMO_KEY)
                          .header("Content-Type", "application/x-ndjson")
                          .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                          .build();
                  long sent = System.nanoTime();
                  try {
                    HttpResponse<String> response =
                        http.send(request, HttpResponse.BodyHandlers.ofString());
                    latencies.add(System.nanoTime() - sent);
                    if (response.statusCode() == 200) {
                      accepted.addAndGet(acceptedIn(response.body()));
                    }
                  } catch (Exception e) {
                    if (running.get()) {
                      throw new IllegalStateException("bench request failed: " + e, e);
                    }
                  }
                }
              });
      workers.add(worker);
    }
    workers.forEach(Thread::start);
    return measure(accepted, running, workers);
  }

  private static long acceptedIn(String body) {
    int at = body.indexOf("\"accepted\":");
    if (at < 0) {
      return 0;
    }
    int end = at + 11;
    while (end < body.length() && Character.isDigit(body.charAt(end))) {
      end++;
    }
    return Long.parseLong(body.substring(at + 11, end));
  }

  /** Skips a one-second warm-up, then counts over the round's length. */
  private double measure(AtomicLong counter, AtomicBoolean running, List<Thread> workers)
      throws InterruptedException {
    Thread.sleep(1000);
    long from = counter.get();
    long start = System.nanoTime();
    Thread.sleep(seconds * 1000L);
    long count = counter.get() - from;
    double elapsed = (System.nanoTime() - start) / 1e9;
    running.set(false);
    for (Thread worker : workers) {
      worker.join(30_000);
    }
    return count / elapsed;
  }
}
