package io.prefstream.launcher.bench;

import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.Split;
import io.prefstream.avro.TopicPartitionOffset;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import io.prefstream.scorer.ScorerServer;
import io.prefstream.scorer.ServedModel;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What {@code bench freshness} observes while the product sends, each stamped with {@code
 * System.nanoTime()} when seen: every pair the pair builder writes (where, its split, its events),
 * every checkpoint announced (up to which offset of each pairs partition it trained), and when each
 * version was first served (as champion, or as a candidate taking traffic: a shadow only scores).
 * Three daemon threads watch until {@link #stop}.
 */
final class FreshnessWatch {

  /** A pair as written to prefstream.pairs, and when it was seen there. */
  record Pair(
      int partition,
      long offset,
      Split split,
      io.prefstream.avro.SourceKind source,
      List<String> events,
      long seenAt) {}

  final List<Pair> pairs = new CopyOnWriteArrayList<>();

  /** Version to the offset of each pairs partition its training ended before. */
  final Map<Long, Map<Integer, Long>> covered = new ConcurrentHashMap<>();

  final Map<Long, Long> announcedAt = new ConcurrentHashMap<>();
  final Map<Long, Long> servedAt = new ConcurrentHashMap<>();

  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> watchers = new ArrayList<>();

  /** Starts watching the topics and what {@code scorer} serves for the model {@code key}. */
  FreshnessWatch start(String bootstrap, Topics topics, ScorerServer scorer, String key) {
    watchers.add(
        watch(
            "pairs",
            () ->
                follow(
                    bootstrap,
                    topics.pairs(),
                    (partition, offset, p) ->
                        pairs.add(
                            new Pair(
                                partition,
                                offset,
                                p.getSplit(),
                                p.getSource(),
                                List.copyOf(p.getEventIds()),
                                System.nanoTime())))));
    watchers.add(
        watch(
            "checkpoints",
            () -> follow(bootstrap, topics.checkpoints(), (partition, offset, c) -> announced(c))));
    watchers.add(watch("serving", () -> watchServing(scorer, key)));
    return this;
  }

  private void announced(CheckpointPublished c) {
    Map<Integer, Long> offsets = new HashMap<>();
    for (TopicPartitionOffset o : c.getOffsets()) {
      offsets.put(o.getPartition(), o.getOffset());
    }
    covered.put(c.getVersion(), offsets);
    announcedAt.put(c.getVersion(), System.nanoTime());
  }

  private void watchServing(ScorerServer scorer, String key) {
    while (!stop.get()) {
      var route = scorer.serving().route(key);
      if (route != null) {
        List<ServedModel> serving = new ArrayList<>();
        serving.add(route.champion());
        if (route.candidateWeight() > 0) {
          serving.add(route.candidate());
        }
        for (ServedModel m : serving) {
          if (m != null) {
            servedAt.putIfAbsent(m.version(), System.nanoTime());
          }
        }
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Stops the watchers, waiting up to 10 s for each. */
  void stop() throws InterruptedException {
    stop.set(true);
    for (Thread w : watchers) {
      w.join(10_000);
    }
  }

  /** When each announced version was announced and first served, relative to {@code t0}. */
  void printVersions(PrintWriter out, long t0) {
    for (long v : new TreeSet<>(announcedAt.keySet())) {
      Long served = servedAt.get(v);
      out.printf(
          "  v%d announced at %5.1f s, %s%n",
          v,
          (announcedAt.get(v) - t0) / 1e9,
          served == null
              ? "never served (superseded or still in evaluation)"
              : String.format("served from %5.1f s", (served - t0) / 1e9));
    }
  }

  /** The TRAIN pairs seen. */
  List<Pair> trainPairs() {
    return pairs.stream().filter(p -> p.split() == Split.TRAIN).toList();
  }

  /** When the pair was first served: the earliest serve time of any version trained through it. */
  long servedTime(Pair p) {
    long best = Long.MAX_VALUE;
    for (Map.Entry<Long, Map<Integer, Long>> c : covered.entrySet()) {
      if (c.getValue().getOrDefault(p.partition(), 0L) > p.offset()) {
        Long t = servedAt.get(c.getKey());
        if (t != null) {
          best = Math.min(best, t);
        }
      }
    }
    return best;
  }

  private static Thread watch(String name, Runnable body) {
    Thread t = new Thread(body, "freshness-" + name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** A record's value with where it was read. */
  private interface Each<V> {
    void accept(int partition, long offset, V value);
  }

  /** Reads a topic's committed records from the beginning until stopped, tombstones skipped. */
  private <V extends SpecificRecord> void follow(String bootstrap, Topic<V> topic, Each<V> each) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "freshness-" + UUID.randomUUID());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic.name()).stream()
              .map(i -> new TopicPartition(topic.name(), i.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Consumer<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> decode =
          r -> {
            if (r.value() != null) {
              each.accept(
                  r.partition(),
                  r.offset(),
                  topic.valueSerde().deserializer().deserialize("", r.value()));
            }
          };
      while (!stop.get()) {
        consumer.poll(Duration.ofMillis(100)).forEach(decode);
      }
    }
  }
}
