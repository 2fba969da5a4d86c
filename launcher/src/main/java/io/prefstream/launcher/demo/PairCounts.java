package io.prefstream.launcher.demo;

import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.Split;
import io.prefstream.launcher.KafkaClients;
import io.prefstream.schemas.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the pair builder has committed so far: pairs by source and split, revisions, dead letters by
 * source.
 */
record PairCounts(
    Map<String, Long> bySource,
    long total,
    long holdout,
    long revised,
    Map<String, Long> deadLetters) {

  static PairCounts read(String bootstrap, Topics topics) {
    Map<String, Long> bySource = new TreeMap<>();
    long[] totals = new long[3];
    KafkaClients clients = new KafkaClients(bootstrap, Duration.ofSeconds(30));
    clients.readCommitted(
        topics.pairs(),
        (PreferencePair p) -> {
          bySource.merge(p.getSource().name().toLowerCase(java.util.Locale.ROOT), 1L, Long::sum);
          totals[0]++;
          if (p.getSplit() == Split.HOLDOUT) {
            totals[1]++;
          }
          if (p.getRevises() != null) {
            totals[2]++;
          }
        });
    Map<String, Long> deadLetters = new TreeMap<>();
    clients.readCommitted(
        topics.feedbackDlq(), (DeadLetter d) -> deadLetters.merge(d.getSource(), 1L, Long::sum));
    return new PairCounts(bySource, totals[0], totals[1], totals[2], deadLetters);
  }
}
