package io.prefstream.pairs;

import static io.prefstream.pairs.PairBuilderOptions.*;

import io.prefstream.config.Settings;
import java.time.Duration;
import java.util.Map;

/**
 * The pair-builder job's configuration, immutable; see {@link PairBuilderOptions} for each key.
 *
 * @param semantics what the operators do with events (event time, rules, limits)
 * @param bootstrapServers Kafka bootstrap servers
 * @param topicPrefix prefix of every prefstream topic
 * @param groupId consumer group of the source's committed offsets
 * @param transactionalIdPrefix prefix of the sinks' transactional ids
 * @param startingOffsets committed, earliest or latest, for a job without a checkpoint
 * @param checkpointInterval how often pairs are committed
 * @param transactionTimeout the sinks' Kafka transaction timeout
 * @param parallelism job parallelism, 0 for the cluster default
 * @param flink Flink configuration passed through ({@code flink.*} keys, prefix removed)
 * @param kafka Kafka client properties passed through ({@code kafka.*} keys, prefix removed)
 */
public record PairBuilderConfig(
    PairSemantics semantics,
    String bootstrapServers,
    String topicPrefix,
    String groupId,
    String transactionalIdPrefix,
    String startingOffsets,
    Duration checkpointInterval,
    Duration transactionTimeout,
    int parallelism,
    Map<String, String> flink,
    Map<String, String> kafka) {

  public PairBuilderConfig {
    flink = Map.copyOf(flink);
    kafka = Map.copyOf(kafka);
  }

  public static PairBuilderConfig defaults() {
    return from(Settings.empty());
  }

  /**
   * Reads every {@code pairs.*} key (failing on unknown ones), {@code flink.*} and {@code kafka.*}.
   */
  public static PairBuilderConfig from(Settings s) {
    s.requireKnown("pairs.", PairBuilderOptions.ALL);
    return new PairBuilderConfig(
        PairSemantics.from(s),
        s.get(BOOTSTRAP_SERVERS),
        s.get(TOPIC_PREFIX),
        s.get(GROUP_ID),
        s.get(TRANSACTIONAL_ID_PREFIX),
        s.get(STARTING_OFFSETS),
        s.get(CHECKPOINT_INTERVAL),
        s.get(TRANSACTION_TIMEOUT),
        s.get(PARALLELISM),
        s.under("flink."),
        s.under("kafka."));
  }
}
