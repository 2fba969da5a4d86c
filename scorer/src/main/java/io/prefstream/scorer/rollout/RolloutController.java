package io.prefstream.scorer.rollout;

import io.micrometer.core.instrument.MeterRegistry;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.RolloutPhase;
import io.prefstream.avro.RolloutState;
import io.prefstream.model.Candidate;
import io.prefstream.model.checkpoint.CheckpointLoader;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import io.prefstream.scorer.Registry;
import io.prefstream.scorer.ScorerConfig;
import io.prefstream.scorer.ServedModel;
import io.prefstream.scorer.Serving;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rollout controller: turns each new checkpoint into a candidate, judges it on fresh pairs
 * against the champion, and steps its traffic up, promotes it or rolls it back, writing every
 * decision as a {@link RolloutState} on {@code prefstream.rollouts}.
 *
 * <p><b>One active controller</b> however many scorer replicas offer to run one: each joins the
 * consumer group {@code PREFIX.rollout-controller} on the single-partition rollouts topic, and the
 * member the partition is assigned to is the controller. On assignment it reads the topic from its
 * beginning (the state of every model) and opens a transactional producer with a fixed
 * transactional id, which fences any previous controller still writing; a standby takes over when
 * the active one leaves or stops heartbeating.
 *
 * <p><b>Fresh pairs</b>: a CANDIDATE decision records the end offsets of the pairs topic at that
 * moment, and each STEP where the next step began. Every pair at or after the candidate's offsets
 * counts, TRAIN and HOLDOUT alike, and no pair before them: the candidate's checkpoint was written
 * before the decision, so it was trained through offsets at or below them, and the champion is
 * older still; neither has seen a fresh pair, whichever split it is. A controller that takes over
 * rebuilds the same evidence by re-reading from there.
 */
public final class RolloutController implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(RolloutController.class);

  private final ScorerConfig config;
  private final RolloutPolicy policy;
  private final Topic<RolloutState> rollouts;
  private final Topic<PreferencePair> pairsTopic;
  private final Registry registry;
  private final Serving serving;
  private final MeterRegistry meters;
  private final Consumer<String, byte[]> leadership;
  private final Consumer<String, byte[]> pairs;
  private final java.util.function.Supplier<Producer<String, byte[]>> producers;
  private final Map<String, RolloutState> states = new HashMap<>();
  private final Map<String, Canary> canaries = new LinkedHashMap<>();
  private final Map<String, Long> refusedFirst = new HashMap<>();
  private Producer<String, byte[]> producer;
  private List<TopicPartition> pairPartitions = List.of();
  private Map<TopicPartition, Long> rolloutsEnd;
  private long lastOwnOffset = -1;
  private volatile boolean active;
  private volatile boolean running = true;

  /**
   * The evidence gathered for one candidate's arm: {@code own} of the version serving it, {@code
   * arm} of every version the arm has served (each pair judged by the newest version it is fresh
   * for).
   */
  private static final class Canary {
    long candidate;
    final long champion;
    final double alpha;
    CanaryEvidence own;
    final CanaryEvidence arm;

    /** The arm's versions, oldest first, with where their fresh pairs begin. */
    final java.util.LinkedHashMap<Long, Map<Integer, Long>> members;

    final Map<Integer, Long> start;
    Map<Integer, Long> stepStart;
    final Map<Integer, Long> next = new HashMap<>();
    long stepPairs;

    Canary(
        long champion,
        java.util.LinkedHashMap<Long, Map<Integer, Long>> members,
        Map<Integer, Long> stepStart,
        double alpha) {
      this.alpha = alpha;
      this.own = new CanaryEvidence(alpha);
      this.arm = new CanaryEvidence(alpha);
      this.champion = champion;
      this.members = new java.util.LinkedHashMap<>(members);
      this.candidate = last(members);
      this.start = members.values().iterator().next();
      this.stepStart = stepStart;
    }

    /** The version a pair at {@code offset} of {@code partition} is judged by. */
    long versionFor(int partition, long offset) {
      long version = -1;
      for (var m : members.entrySet()) {
        if (offset >= m.getValue().getOrDefault(partition, 0L)) {
          version = m.getKey();
        }
      }
      return version;
    }

    /** The arm goes on with {@code version} (which followed the candidate). */
    void follow(long version, Map<Integer, Long> from) {
      members.put(version, from);
      candidate = version;
      own = new CanaryEvidence(alpha);
    }

    static long last(java.util.LinkedHashMap<Long, Map<Integer, Long>> members) {
      long last = -1;
      for (long v : members.keySet()) {
        last = v;
      }
      return last;
    }
  }

  public RolloutController(
      ScorerConfig config,
      Topics topics,
      Registry registry,
      Serving serving,
      MeterRegistry meters,
      Consumer<String, byte[]> leadership,
      Consumer<String, byte[]> pairs,
      java.util.function.Supplier<Producer<String, byte[]>> producers) {
    this.config = config;
    this.policy = config.rollout();
    this.rollouts = topics.rollouts();
    this.pairsTopic = topics.pairs();
    this.registry = registry;
    this.serving = serving;
    this.meters = meters;
    this.leadership = leadership;
    this.pairs = pairs;
    this.producers = producers;
  }

  /** The production instance: Kafka clients from the scorer's configuration. */
  public static RolloutController kafka(
      ScorerConfig config,
      Topics topics,
      Registry registry,
      Serving serving,
      MeterRegistry meters) {
    String group = topics.prefix() + ".rollout-controller";
    Properties common = new Properties();
    common.putAll(config.kafka());
    common.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    Properties lead = (Properties) common.clone();
    lead.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    lead.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    lead.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    lead.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    lead.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
    lead.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "2000");
    lead.put(ConsumerConfig.CLIENT_ID_CONFIG, "prefstream-rollout-leadership");
    Properties read = (Properties) common.clone();
    read.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    read.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    read.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
    read.put(ConsumerConfig.CLIENT_ID_CONFIG, "prefstream-rollout-pairs");
    Properties write = (Properties) common.clone();
    write.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, group);
    write.put(ProducerConfig.ACKS_CONFIG, "all");
    write.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    write.put(ProducerConfig.CLIENT_ID_CONFIG, "prefstream-rollout-controller");
    return new RolloutController(
        config,
        topics,
        registry,
        serving,
        meters,
        new KafkaConsumer<>(lead, new StringDeserializer(), new ByteArrayDeserializer()),
        new KafkaConsumer<>(read, new StringDeserializer(), new ByteArrayDeserializer()),
        () -> new KafkaProducer<>(write, new StringSerializer(), new ByteArraySerializer()));
  }

  /** Whether this replica is the active controller now. */
  public boolean active() {
    return active && rolloutsEnd == null;
  }

  public void stop() {
    running = false;
    leadership.wakeup();
  }

  @Override
  public void run() {
    try {
      leadership.subscribe(List.of(rollouts.name()), new Leadership());
      while (running) {
        for (ConsumerRecord<String, byte[]> r : leadership.poll(Duration.ofMillis(200))) {
          if (r.offset() > lastOwnOffset && r.value() != null) {
            adopt(r);
          }
        }
        if (!active) {
          continue;
        }
        if (rolloutsEnd != null) {
          rolloutsEnd.entrySet().removeIf(e -> leadership.position(e.getKey()) >= e.getValue());
          if (!rolloutsEnd.isEmpty()) {
            continue;
          }
          rolloutsEnd = null;
          LOG.info("Rollout controller active: {} model(s) under rollout control", states.size());
        }
        if (!registry.caughtUp()) {
          continue;
        }
        try {
          control();
        } catch (ProducerFencedException e) {
          LOG.warn("Another rollout controller took over: {}", e.getMessage());
          resign();
        } catch (WakeupException e) {
          throw e;
        } catch (RuntimeException e) {
          // A failed write or read: start the round again on a fresh producer after a pause.
          LOG.error("Rollout round failed; retrying", e);
          reopen();
        }
      }
    } catch (WakeupException e) {
      if (running) {
        throw e;
      }
    } catch (RuntimeException e) {
      LOG.error("Rollout controller stopped", e);
    } finally {
      resign();
      leadership.close();
      pairs.close();
    }
  }

  private final class Leadership implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (partitions.isEmpty()) {
        return;
      }
      leadership.seekToBeginning(partitions);
      rolloutsEnd = new HashMap<>(leadership.endOffsets(partitions));
      states.clear();
      canaries.clear();
      lastOwnOffset = -1;
      producer = producers.get();
      producer.initTransactions(); // fences a previous controller's unfinished writes
      pairPartitions =
          pairs.partitionsFor(pairsTopic.name(), Duration.ofSeconds(30)).stream()
              .map(i -> new TopicPartition(i.topic(), i.partition()))
              .toList();
      pairs.assign(pairPartitions);
      pairs.seekToEnd(pairPartitions);
      active = true;
      LOG.info("This replica is the rollout controller; reading {}", rollouts.name());
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        resign();
      }
    }
  }

  private void resign() {
    active = false;
    canaries.clear();
    if (producer != null) {
      try {
        producer.close(Duration.ofSeconds(1));
      } catch (KafkaException e) {
        LOG.debug("closing the controller's producer: {}", e.getMessage());
      }
      producer = null;
    }
  }

  private void reopen() {
    try {
      Thread.sleep(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
      return;
    }
    if (producer != null) {
      producer.close(Duration.ofSeconds(1));
    }
    canaries.clear();
    producer = producers.get();
    producer.initTransactions();
  }

  private void adopt(ConsumerRecord<String, byte[]> r) {
    try {
      RolloutState s = rollouts.valueSerde().deserialize(r.topic(), r.value());
      states.put(Registry.key(s.getTenantId(), s.getModel()), s);
    } catch (RuntimeException e) {
      LOG.warn("Skipping unreadable rollout record @{}: {}", r.offset(), e.getMessage());
    }
  }

  /**
   * One round: read fresh pairs, judge every candidate (a candidate ready for its next step takes
   * it before a newer version could replace it), then offer new checkpoints.
   */
  private void control() {
    reconcile();
    readPairs();
    for (String key : List.copyOf(canaries.keySet())) {
      judge(key);
    }
    for (String key : registry.models()) {
      offer(key);
    }
    reconcile();
  }

  private void offer(String key) {
    var versions = registry.checkpoints(key);
    if (versions.isEmpty()) {
      return;
    }
    long latest = versions.lastKey();
    RolloutState state = states.get(key);
    var c = versions.get(latest);
    Instant now = Instant.now();
    if (state == null) {
      if (refusedFirst.getOrDefault(key, 0L) >= latest) {
        return;
      }
      String refusal = verify(key, latest);
      if (refusal != null) {
        refusedFirst.put(key, latest);
        LOG.error("Not promoting the first checkpoint {} v{}: {}", key, latest, refusal);
        return;
      }
      write(key, Rollouts.firstChampion(c.getTenantId(), c.getModel(), latest, now));
      return;
    }
    if (state.getPhase() == RolloutPhase.PINNED || latest <= Rollouts.decidedThrough(state)) {
      return;
    }
    Long current = state.getCandidateVersion();
    if (current != null) {
      // The arm follows the trainer once the version serving it has had its dwell of fresh pairs
      // (min-pairs), and not at the last step before promotion, where the version is fixed.
      Canary canary = canaries.get(key);
      boolean dwelt = canary != null && canary.own.pairs() >= policy.minPairs();
      if (policy.follows(state.getStep()) && dwelt && descends(versions, latest, current)) {
        Map<Integer, Long> start = endOffsets();
        String refusal = verify(key, latest);
        write(
            key,
            refusal == null
                ? Rollouts.follow(state, latest, policy, start, now)
                : Rollouts.refuse(state, latest, "refused: " + refusal, now));
      }
      return;
    }
    Map<Integer, Long> start = endOffsets();
    RolloutState candidate = Rollouts.candidate(state, latest, policy, start, now);
    String refusal = verify(key, latest);
    if (refusal != null) {
      write(
          key, Rollouts.rollback(candidate, "refused: " + refusal, Rollouts.CONTROLLER, null, now));
      return;
    }
    write(key, candidate);
  }

  /** Whether {@code version}'s chain of parents reaches {@code ancestor}. */
  private static boolean descends(
      java.util.SortedMap<Long, io.prefstream.avro.CheckpointPublished> versions,
      long version,
      long ancestor) {
    long v = version;
    while (v > ancestor) {
      var c = versions.get(v);
      if (c == null || c.getParentVersion() == null) {
        return false;
      }
      v = c.getParentVersion();
    }
    return v == ancestor;
  }

  /** Loads a version (verifying every digest); null when it is fine, else why not. */
  private String verify(String key, long version) {
    try {
      serving.lease(key, version).release();
      return null;
    } catch (CheckpointLoader.Refused e) {
      return e.getMessage();
    }
  }

  /**
   * Drops evidence of candidates no longer in their state, goes on with an arm whose candidate was
   * followed by a newer version, and starts it for new ones.
   */
  private void reconcile() {
    canaries
        .entrySet()
        .removeIf(
            e -> {
              RolloutState s = states.get(e.getKey());
              Canary c = e.getValue();
              if (s == null
                  || s.getCandidateVersion() == null
                  || s.getChampionVersion() == null
                  || s.getChampionVersion() != c.champion) {
                return true;
              }
              if (s.getCandidateVersion() == c.candidate) {
                return false;
              }
              var lineage = Rollouts.lineage(s);
              if (!lineage.containsKey(c.candidate)) {
                return true;
              }
              lineage.forEach(
                  (v, from) -> {
                    if (v > c.candidate) {
                      c.follow(v, from);
                    }
                  });
              return false;
            });
    for (var e : states.entrySet()) {
      RolloutState s = e.getValue();
      if (s.getCandidateVersion() == null
          || s.getChampionVersion() == null
          || canaries.containsKey(e.getKey())) {
        continue;
      }
      var lineage = Rollouts.lineage(s);
      if (lineage.isEmpty()) {
        lineage.put(s.getCandidateVersion(), Rollouts.candidateOffsets(s));
      }
      Canary canary =
          new Canary(s.getChampionVersion(), lineage, Rollouts.stepOffsets(s), policy.alpha());
      canaries.put(e.getKey(), canary);
      for (TopicPartition tp : pairPartitions) {
        long from = canary.start.getOrDefault(tp.partition(), 0L);
        if (pairs.position(tp) > from) {
          pairs.seek(tp, from); // re-read what this candidate has not judged (a takeover)
        }
      }
    }
  }

  private void readPairs() {
    if (canaries.isEmpty()) {
      pairs.seekToEnd(pairPartitions);
      return;
    }
    Map<String, List<ConsumerRecord<String, PreferencePair>>> byTenant = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : pairs.poll(Duration.ofMillis(100))) {
      PreferencePair p;
      try {
        p = pairsTopic.valueSerde().deserialize(r.topic(), r.value());
      } catch (RuntimeException e) {
        continue; // the trainer counts undecodable pairs; nothing to judge with
      }
      byTenant
          .computeIfAbsent(config.modelTenant(p.getTenantId()), t -> new ArrayList<>())
          .add(new ConsumerRecord<>(r.topic(), r.partition(), r.offset(), r.key(), p));
    }
    for (var e : canaries.entrySet()) {
      String tenant = e.getKey().substring(0, e.getKey().indexOf('/'));
      List<ConsumerRecord<String, PreferencePair>> fresh = new ArrayList<>();
      Canary canary = e.getValue();
      for (var r : byTenant.getOrDefault(tenant, List.of())) {
        long floor =
            Math.max(
                canary.start.getOrDefault(r.partition(), 0L),
                canary.next.getOrDefault(r.partition(), 0L));
        if (r.offset() >= floor) {
          fresh.add(r);
        }
      }
      if (!fresh.isEmpty()) {
        evaluate(e.getKey(), canary, fresh);
      }
    }
  }

  /**
   * Scores fresh pairs with the arm's versions and the champion: each pair by the newest version of
   * the arm it is fresh for, into the arm's evidence and, for the version serving now, its own.
   */
  private void evaluate(
      String key, Canary canary, List<ConsumerRecord<String, PreferencePair>> fresh) {
    Map<Long, List<ConsumerRecord<String, PreferencePair>>> byVersion = new java.util.TreeMap<>();
    for (var r : fresh) {
      long v = canary.versionFor(r.partition(), r.offset());
      byVersion.computeIfAbsent(v, x -> new ArrayList<>()).add(r);
    }
    for (var e : byVersion.entrySet()) {
      if (!evaluate(key, canary, e.getKey(), e.getValue())) {
        return;
      }
    }
  }

  /** Scores {@code fresh} with {@code version} of the arm; false when the candidate was dropped. */
  private boolean evaluate(
      String key, Canary canary, long version, List<ConsumerRecord<String, PreferencePair>> fresh) {
    List<Candidate> candidates = new ArrayList<>(2 * fresh.size());
    for (var r : fresh) {
      candidates.add(new Candidate(r.value().getPrompt(), r.value().getChosen()));
    }
    for (var r : fresh) {
      candidates.add(new Candidate(r.value().getPrompt(), r.value().getRejected()));
    }
    float[] cand;
    float[] champ;
    ServedModel candidate;
    ServedModel champion;
    boolean current = version == canary.candidate;
    try {
      candidate = serving.lease(key, version);
    } catch (CheckpointLoader.Refused e) {
      if (current) {
        rollback(key, "refused: " + e.getMessage(), null);
        return false;
      }
      LOG.warn(
          "Not judging {} pairs with v{} of {}: {}", fresh.size(), version, key, e.getMessage());
      markRead(canary, fresh);
      return true;
    }
    try {
      champion = serving.lease(key, canary.champion);
    } catch (CheckpointLoader.Refused e) {
      candidate.release();
      LOG.error("Cannot judge {}: the champion cannot load: {}", key, e.getMessage());
      return false;
    }
    try {
      cand = candidate.scoreNow(candidates);
      champ = champion.scoreNow(candidates);
    } finally {
      candidate.release();
      champion.release();
    }
    int n = fresh.size();
    for (int i = 0; i < n; i++) {
      var r = fresh.get(i);
      float[] c = {cand[i], cand[n + i]};
      float[] h = {champ[i], champ[n + i]};
      canary.arm.add(r.value().getSplit(), c, h, candidate.normaliser(), champion.normaliser());
      if (current) {
        canary.own.add(r.value().getSplit(), c, h, candidate.normaliser(), champion.normaliser());
      }
      if (r.offset() >= canary.stepStart.getOrDefault(r.partition(), 0L)) {
        canary.stepPairs++;
      }
    }
    markRead(canary, fresh);
    meters.counter("prefstream.rollout.pairs.judged").increment(n);
    return true;
  }

  private static void markRead(Canary canary, List<ConsumerRecord<String, PreferencePair>> read) {
    for (var r : read) {
      canary.next.merge(r.partition(), r.offset() + 1, Math::max);
    }
  }

  private void judge(String key) {
    Canary canary = canaries.get(key);
    RolloutState state = states.get(key);
    // The arm's evidence counts once it has served more than one version.
    boolean following = canary.members.size() > 1;
    Rollouts.Judgement j =
        Rollouts.judge(canary.own, following ? canary.arm : null, canary.stepPairs, policy);
    switch (j.verdict()) {
      case WAIT -> {}
      case ROLLBACK -> rollback(key, j.reason(), j.evidence());
      case STEP -> {
        Map<Integer, Long> positions = new HashMap<>();
        for (TopicPartition tp : pairPartitions) {
          positions.put(tp.partition(), pairs.position(tp));
        }
        RolloutState next = Rollouts.step(state, policy, j, positions, Instant.now());
        write(key, next);
        canary.stepPairs = 0;
        canary.stepStart = positions;
        if (next.getCandidateVersion() == null) {
          canaries.remove(key);
        }
      }
    }
  }

  private void rollback(String key, String reason, io.prefstream.avro.RolloutEvidence evidence) {
    RolloutState state = states.get(key);
    write(key, Rollouts.rollback(state, reason, Rollouts.CONTROLLER, evidence, Instant.now()));
    canaries.remove(key);
  }

  private Map<Integer, Long> endOffsets() {
    Map<Integer, Long> offsets = new HashMap<>();
    pairs.endOffsets(pairPartitions).forEach((tp, o) -> offsets.put(tp.partition(), o));
    return offsets;
  }

  private void write(String key, RolloutState state) {
    var last = state.getHistory().get(state.getHistory().size() - 1);
    producer.beginTransaction();
    try {
      RecordMetadata md =
          producer
              .send(
                  new ProducerRecord<>(
                      rollouts.name(),
                      rollouts.key(state),
                      rollouts.valueSerde().serialize(rollouts.name(), state)))
              .get();
      producer.commitTransaction();
      lastOwnOffset = Math.max(lastOwnOffset, md.offset());
    } catch (ProducerFencedException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      producer.abortTransaction();
      throw new IllegalStateException("interrupted writing a rollout decision", e);
    } catch (ExecutionException | KafkaException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      if (cause instanceof ProducerFencedException fenced) {
        throw fenced;
      }
      producer.abortTransaction();
      throw new IllegalStateException("could not write a rollout decision: " + cause, cause);
    }
    states.put(key, state);
    meters.counter("prefstream.rollout.decisions", "action", last.getAction().name()).increment();
    LOG.info(
        "Rollout {}: {} v{} at weight {} ({})",
        key,
        last.getAction(),
        last.getVersion(),
        last.getWeight(),
        last.getReason());
  }
}
