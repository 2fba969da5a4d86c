package io.prefstream.launcher;

import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.Split;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * What the pair builder has committed so far: pairs by source and split, dead letters by source.
 */
record PairCounts(
    Map<String, Long> bySource, long total, long holdout, Map<String, Long> deadLetters) {

  static PairCounts read(String bootstrap, Topics topics) {
    Map<String, Long> bySource = new TreeMap<>();
    long[] totals = new long[2];
    readCommitted(
        bootstrap,
        topics.pairs(),
        (PreferencePair p) -> {
          bySource.merge(p.getSource().name().toLowerCase(java.util.Locale.ROOT), 1L, Long::sum);
          totals[0]++;
          if (p.getSplit() == Split.HOLDOUT) {
            totals[1]++;
          }
        });
    Map<String, Long> deadLetters = new TreeMap<>();
    readCommitted(
        bootstrap,
        topics.feedbackDlq(),
        (DeadLetter d) -> deadLetters.merge(d.getSource(), 1L, Long::sum));
    return new PairCounts(bySource, totals[0], totals[1], deadLetters);
  }

  /** Every committed record of a topic, from the beginning to the last stable offset. */
  static <V extends SpecificRecord> void readCommitted(
      String bootstrap, Topic<V> topic, Consumer<V> each) {
    KafkaClients clients = new KafkaClients(bootstrap, Duration.ofSeconds(30));
    try (KafkaConsumer<byte[], byte[]> consumer = clients.consumer()) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (int p = 0; p < topic.partitions(); p++) {
        partitions.add(new TopicPartition(topic.name(), p));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
        if (System.nanoTime() > deadline) {
          throw new UserError("could not read " + topic.name() + " to its end within 60 s");
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          each.accept(topic.valueSerde().deserialize(r.topic(), r.value()));
        }
      }
    }
  }
}
