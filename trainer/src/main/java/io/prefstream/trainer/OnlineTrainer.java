package io.prefstream.trainer;

import io.prefstream.avro.CheckpointFile;
import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.Histogram;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.Split;
import io.prefstream.avro.TopicPartitionOffset;
import io.prefstream.model.Devices;
import io.prefstream.model.checkpoint.CheckpointId;
import io.prefstream.model.checkpoint.CheckpointStore;
import io.prefstream.model.checkpoint.DirectoryCheckpointStore;
import io.prefstream.model.checkpoint.Manifest;
import io.prefstream.model.checkpoint.Retention;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online trainer: reads {@code prefstream.pairs} (read_committed, offsets kept in its
 * checkpoints, not in a consumer group), trains one {@link TenantModel} per tenant in micro-batches
 * bounded by size and time, and writes a checkpoint when one is due and its gates pass, announcing
 * it on {@code prefstream.checkpoints}.
 *
 * <p><b>Exactly once</b>: a checkpoint records the position of every pairs partition at the moment
 * all pairs read before it were trained. On start each tenant's newest verified checkpoint is
 * restored; the consumer starts from the smallest recorded position, and a tenant skips records
 * below its own checkpoint's positions. So after a crash every pair is trained into the restored
 * lineage exactly once. A round writes the first checkpoint of any tenant that has none before
 * another tenant's positions move on, so no tenant's pairs fall behind the restart position.
 */
public final class OnlineTrainer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OnlineTrainer.class);

  private final TrainerConfig config;
  private final Topic<PreferencePair> pairsTopic;
  private final Topic<CheckpointPublished> checkpointsTopic;
  private final Consumer<String, byte[]> consumer;
  private final Producer<String, byte[]> producer;
  private final CheckpointStore store;
  private final RolloutVersions rollouts;
  private final TrainerMetrics metrics;
  private final Map<String, TenantModel> models = new LinkedHashMap<>();
  private final Map<String, Map<Integer, Long>> skipBelow = new HashMap<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private volatile Map<String, TenantStatus> status = Map.of();
  private List<TopicPartition> partitions = List.of();
  private final List<String> restoreProblems = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile long checkpointsWritten; // read by progress displays on other threads

  /** Decodes the records of one poll while the engine thread trains earlier ones. */
  private final ExecutorService decoder =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "prefstream-decoder");
            t.setDaemon(true);
            return t;
          });

  public OnlineTrainer(
      TrainerConfig config,
      Topics topics,
      Consumer<String, byte[]> consumer,
      Producer<String, byte[]> producer,
      CheckpointStore store,
      RolloutVersions rollouts,
      TrainerMetrics metrics) {
    this.config = config;
    this.rollouts = rollouts;
    this.pairsTopic = topics.pairs();
    this.checkpointsTopic = topics.checkpoints();
    this.consumer = consumer;
    this.producer = producer;
    this.store = store;
    this.metrics = metrics;
    int threads = Devices.useEngineThreads(config.engineThreads(), config.model().type());
    LOG.info("Engine intra-op threads: {}", threads);
  }

  /** The production instance: Kafka clients and a directory store from the configuration. */
  public static OnlineTrainer kafka(TrainerConfig config, TrainerMetrics metrics) {
    Properties c = new Properties();
    c.putAll(config.kafka());
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "prefstream-trainer");
    Properties p = new Properties();
    p.putAll(config.kafka());
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "prefstream-trainer");
    try {
      return new OnlineTrainer(
          config,
          Topics.withPrefix(config.topicPrefix()),
          new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer()),
          new KafkaProducer<>(
              p,
              new StringSerializer(),
              new org.apache.kafka.common.serialization.ByteArraySerializer()),
          new DirectoryCheckpointStore(config.store()),
          RolloutVersions.kafka(config, Topics.withPrefix(config.topicPrefix()).rollouts()),
          metrics);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the checkpoint store " + config.store(), e);
    }
  }

  /**
   * What one tenant's model is doing, for progress displays.
   *
   * @param pairsTrained TRAIN pairs trained over the lineage
   * @param prequentialAccuracy rolling prequential accuracy
   * @param holdoutAccuracy holdout accuracy at the last checkpoint
   * @param version last checkpoint version, 0 before the first
   * @param loss last step's loss
   */
  public record TenantStatus(
      long pairsTrained,
      double prequentialAccuracy,
      double holdoutAccuracy,
      long version,
      double loss) {}

  public Map<String, TenantStatus> status() {
    return status;
  }

  /** Why checkpoints were passed over at the last restore (corrupt files), one line each. */
  public List<String> restoreProblems() {
    return List.copyOf(restoreProblems);
  }

  public long checkpointsWritten() {
    return checkpointsWritten;
  }

  /** Asks {@link #run} to finish: it trains what it has read, checkpoints, and returns. */
  public void stop() {
    running.set(false);
  }

  /** Restores, then trains until {@link #stop}; returns each tenant's status at the end. */
  public Map<String, TenantStatus> run() throws IOException {
    restore();
    while (running.get()) {
      // Each round trains the batches read in earlier rounds while the records just polled are
      // decoded on the decoder thread; they are queued before any checkpoint takes positions.
      long now = System.currentTimeMillis();
      boolean due = models.values().stream().anyMatch(m -> m.batchDue(now));
      ConsumerRecords<String, byte[]> records =
          consumer.poll(due ? Duration.ZERO : Duration.ofMillis(200));
      Future<List<Decoded>> decoding =
          records.isEmpty() ? null : decoder.submit(() -> decode(records));
      for (TenantModel m : models.values()) {
        if (m.batchDue(now)) {
          m.trainPending();
        }
      }
      if (decoding != null) {
        enqueue(await(decoding), System.currentTimeMillis());
      }
      Instant instant = Instant.now();
      if (models.values().stream().anyMatch(m -> m.checkpointDue(instant))) {
        checkpointRound(false);
      }
      refreshStatus();
    }
    checkpointRound(true);
    refreshStatus();
    return status;
  }

  /** Restores every tenant's newest verified checkpoint and positions the consumer. */
  void restore() throws IOException {
    TreeSet<String> tenants = new TreeSet<>();
    for (CheckpointId id : store.listAll()) {
      if (id.model().equals(config.modelName())
          && (config.sharedModel().isEmpty()
              ? config.trains(id.tenant())
              : id.tenant().equals(config.sharedModel()))) {
        tenants.add(id.tenant()); // this trainer's models only: others may share the store
      }
    }
    for (String tenant : tenants) {
      var restored =
          TenantModel.restore(
              tenant,
              config,
              metrics,
              store,
              m -> m.offsets().stream().anyMatch(o -> o.topic().equals(pairsTopic.name())),
              restoreProblems::add);
      if (restored.isPresent()) {
        TenantModel model = restored.get();
        Manifest manifest = model.parent().orElseThrow();
        models.put(tenant, model);
        Map<Integer, Long> below = new HashMap<>();
        for (Manifest.Offset o : manifest.offsets()) {
          if (o.topic().equals(pairsTopic.name())) {
            below.put(o.partition(), o.offset());
          }
        }
        skipBelow.put(tenant, below);
        // Announce again: a crash between commit and announcement must not hide a checkpoint.
        announce(manifest, manifestSha(manifest), store.uri(manifest.id()));
      }
    }
    List<PartitionInfo> infos = consumer.partitionsFor(pairsTopic.name(), Duration.ofSeconds(30));
    if (infos == null || infos.isEmpty()) {
      throw new IllegalStateException(
          "topic " + pairsTopic.name() + " does not exist at " + config.bootstrapServers());
    }
    partitions =
        infos.stream()
            .map(i -> new TopicPartition(i.topic(), i.partition()))
            .sorted(Comparator.comparingInt(TopicPartition::partition))
            .toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    for (TopicPartition tp : partitions) {
      long start = Long.MAX_VALUE;
      for (String tenant : models.keySet()) {
        start = Math.min(start, skipBelow.get(tenant).getOrDefault(tp.partition(), 0L));
      }
      if (!models.isEmpty() && start > 0) {
        consumer.seek(tp, start);
      }
    }
    LOG.info(
        "Trainer restored {} tenant model(s) {}; reading {} from {}",
        models.size(),
        models.keySet(),
        pairsTopic.name(),
        partitions.stream().map(tp -> tp.partition() + "@" + consumer.position(tp)).toList());
    refreshStatus(); // the restored versions show before the first round
  }

  /** A polled record decoded: its pair, or null when it could not be decoded. */
  private record Decoded(ConsumerRecord<String, byte[]> record, PreferencePair pair) {}

  /** Decodes polled records; runs on the decoder thread and touches no trainer state. */
  private List<Decoded> decode(ConsumerRecords<String, byte[]> records) {
    List<Decoded> decoded = new ArrayList<>(records.count());
    for (ConsumerRecord<String, byte[]> record : records) {
      PreferencePair pair;
      try {
        pair = pairsTopic.valueSerde().deserialize(record.topic(), record.value());
      } catch (RuntimeException e) {
        LOG.warn(
            "Skipping undecodable record {}-{}@{}: {}",
            record.topic(),
            record.partition(),
            record.offset(),
            e.getMessage());
        pair = null;
      }
      decoded.add(new Decoded(record, pair));
    }
    return decoded;
  }

  /** Queues decoded pairs on their tenants' models, in the order they were read. */
  private void enqueue(List<Decoded> decoded, long now) {
    for (Decoded d : decoded) {
      ConsumerRecord<String, byte[]> record = d.record();
      PreferencePair pair = d.pair();
      if (pair == null) {
        metrics.counter("invalid_pairs", "unknown", "reason", "undecodable").increment();
        continue;
      }
      if (!config.trains(pair.getTenantId())) {
        continue; // another trainer's tenant (trainer.tenants)
      }
      String tenant = config.modelTenant(pair.getTenantId());
      Map<Integer, Long> below = skipBelow.get(tenant);
      if (below != null && record.offset() < below.getOrDefault(record.partition(), 0L)) {
        continue; // already in this tenant's restored checkpoint
      }
      TrainingPair training = TrainingPair.of(pair);
      if (!training.valid()) {
        metrics.counter("invalid_pairs", tenant, "reason", "weight or margin").increment();
        continue;
      }
      TenantModel model =
          models.computeIfAbsent(tenant, t -> TenantModel.fresh(t, config, metrics));
      if (pair.getSplit() == Split.HOLDOUT) {
        model.addHoldout(training);
      } else {
        model.addTrain(training, now);
      }
    }
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while decoding pairs", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("decoding pairs failed", e.getCause());
    }
  }

  /**
   * Trains everything read, then checkpoints each due model (all of them when {@code all}), tenants
   * without any checkpoint first.
   */
  private void checkpointRound(boolean all) throws IOException {
    for (TenantModel m : models.values()) {
      if (m.pendingCount() > 0) {
        m.trainPending();
      }
    }
    List<Manifest.Offset> offsets = new ArrayList<>();
    for (TopicPartition tp : partitions) {
      offsets.add(new Manifest.Offset(tp.topic(), tp.partition(), consumer.position(tp)));
    }
    Instant now = Instant.now();
    List<TenantModel> order = new ArrayList<>(models.values());
    order.sort(Comparator.comparing(m -> m.parent().isPresent()));
    for (TenantModel m : order) {
      boolean first = m.parent().isEmpty() && m.pairsSeen() > 0;
      if (first
          || m.checkpointDue(now)
          || (all && m.pairsSeen() > m.parent().map(Manifest::pairsSeen).orElse(0L))) {
        TenantModel.Outcome outcome = m.checkpoint(store, offsets, Map.of());
        if (outcome.written()) {
          checkpointsWritten++;
          skipBelow.remove(m.tenant());
          announce(outcome.manifest(), outcome.manifestSha256(), outcome.uri());
          LOG.info(
              "Checkpoint {}: {} pairs, prequential {}, holdout {}",
              outcome.manifest().id(),
              outcome.manifest().pairsSeen(),
              outcome.manifest().metrics().get("prequential_accuracy"),
              outcome.manifest().metrics().get("holdout_accuracy"));
          prune(m);
        }
      }
    }
  }

  /**
   * Deletes the model's checkpoints beyond the newest {@code trainer.keep-checkpoints} that nothing
   * needs (the rollouts' champion, candidate and previous champion; this trainer's resume point),
   * and withdraws their announcements with tombstones. When the rollouts cannot be read, nothing is
   * deleted this time.
   */
  private void prune(TenantModel m) {
    Retention retention = new Retention(config.keepCheckpoints());
    if (retention.keep() == 0) {
      return;
    }
    try {
      List<CheckpointId> versions = store.list(m.tenant(), config.modelName());
      if (versions.size() <= retention.keep()) {
        return;
      }
      java.util.Set<Long> needed =
          new java.util.HashSet<>(
              rollouts.named().getOrDefault(m.tenant() + "/" + config.modelName(), Set.of()));
      m.parent().ifPresent(p -> needed.add(p.version()));
      java.util.function.LongFunction<Long> deltaParent =
          v -> {
            try {
              java.nio.file.Path file =
                  java.nio.file.Path.of(
                          store.uri(new CheckpointId(m.tenant(), config.modelName(), v)))
                      .resolve(Manifest.FILE_NAME);
              if (!java.nio.file.Files.isRegularFile(file)) {
                return null; // named by a rollout but no longer in the store
              }
              Manifest manifest = Manifest.fromJson(java.nio.file.Files.readAllBytes(file));
              return manifest.hasDelta() ? manifest.parent() : null;
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e); // not pruned this time
            }
          };
      for (CheckpointId id : retention.prunable(versions, needed, deltaParent)) {
        store.delete(id);
        withdraw(id);
        metrics.counter("checkpoints_pruned", m.tenant()).increment();
        LOG.info(
            "Pruned checkpoint {}: older than the newest {} and named by no rollout",
            id,
            retention.keep());
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("Not pruning checkpoints of {} this time: {}", m.tenant(), e.toString());
      metrics.counter("prune_failures", m.tenant()).increment();
    }
  }

  /** A tombstone for a deleted version's announcement: compaction drops it from the registry. */
  private void withdraw(CheckpointId id) {
    String key = id.tenant() + "/" + id.model() + "/" + id.version();
    try {
      producer.send(new ProducerRecord<>(checkpointsTopic.name(), key, null)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted withdrawing " + id, e);
    } catch (ExecutionException e) {
      LOG.warn("Could not withdraw the announcement of {}: {}", id, e.getCause().getMessage());
    }
  }

  private String manifestSha(Manifest manifest) throws IOException {
    return io.prefstream.model.checkpoint.Checkpoints.sha256(
        store.fetch(manifest.id()).resolve(Manifest.FILE_NAME));
  }

  private void announce(Manifest m, String sha, java.net.URI uri) {
    CheckpointPublished published = published(m, sha, uri.toString());
    try {
      producer
          .send(
              new ProducerRecord<>(
                  checkpointsTopic.name(),
                  checkpointsTopic.key(published),
                  checkpointsTopic.valueSerde().serialize(checkpointsTopic.name(), published)))
          .get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted announcing " + m.id(), e);
    } catch (ExecutionException e) {
      // The checkpoint is in the store; the next start announces it again.
      LOG.error("Could not announce checkpoint {}: {}", m.id(), e.getCause().getMessage());
      metrics.counter("announce_failures", m.tenant()).increment();
    }
  }

  /** The announcement of a checkpoint on prefstream.checkpoints. */
  public static CheckpointPublished published(Manifest m, String manifestSha, String uri) {
    Histogram histogram = null;
    if (m.referenceHistogram() != null) {
      histogram =
          new Histogram(
              Arrays.stream(m.referenceHistogram().edges()).boxed().toList(),
              Arrays.stream(m.referenceHistogram().counts()).boxed().toList());
    }
    return CheckpointPublished.newBuilder()
        .setTenantId(m.tenant())
        .setModel(m.model())
        .setVersion(m.version())
        .setParentVersion(m.parent())
        .setModelType(m.modelType())
        .setUri(uri)
        .setManifestSha256(manifestSha)
        .setFiles(
            m.files().stream()
                .map(f -> new CheckpointFile(f.path(), f.sha256(), f.size()))
                .toList())
        .setMetrics(new HashMap<>(m.metrics()))
        .setRewardMean(m.rewardMean())
        .setRewardStd(m.rewardStd())
        .setReferenceHistogram(histogram)
        .setOffsets(
            m.offsets().stream()
                .map(o -> new TopicPartitionOffset(o.topic(), o.partition(), o.offset()))
                .toList())
        .setPairsSeen(m.pairsSeen())
        .setPublishedAt(Instant.now())
        .build();
  }

  private void refreshStatus() {
    Map<String, TenantStatus> s = new LinkedHashMap<>();
    for (TenantModel m : models.values()) {
      s.put(
          m.tenant(),
          new TenantStatus(
              m.pairsSeen(),
              m.prequentialAccuracy(),
              m.parent()
                  .map(p -> p.metrics().getOrDefault("holdout_accuracy", Double.NaN))
                  .orElse(Double.NaN),
              m.parent().map(Manifest::version).orElse(0L),
              m.lastLoss()));
    }
    status = Map.copyOf(s);
  }

  @Override
  public void close() {
    decoder.shutdownNow();
    consumer.close();
    producer.close();
    models.values().forEach(TenantModel::close);
  }
}
