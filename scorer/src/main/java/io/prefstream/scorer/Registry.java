package io.prefstream.scorer;

import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.RolloutState;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.TopicFollower;
import io.prefstream.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the compacted registries, {@code prefstream.checkpoints} (every published version) and
 * {@code prefstream.rollouts} (what serves each tenant's model), from their beginning: on start it
 * rebuilds both, then keeps them current. Every replica reads the same records, so every replica
 * routes the same way. Listeners run on the follower's thread.
 */
public final class Registry implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(Registry.class);

  private final TopicFollower<String, byte[]> follower;
  private final Topic<CheckpointPublished> checkpointsTopic;
  private final Topic<RolloutState> rolloutsTopic;
  private final Map<String, NavigableMap<Long, CheckpointPublished>> checkpoints =
      new ConcurrentHashMap<>();
  private final Map<String, RolloutState> rollouts = new ConcurrentHashMap<>();
  private final List<BiConsumer<String, RolloutState>> rolloutListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<BiConsumer<String, CheckpointPublished>> checkpointListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  public Registry(Consumer<String, byte[]> consumer, Topics topics) {
    this.checkpointsTopic = topics.checkpoints();
    this.rolloutsTopic = topics.rollouts();
    this.follower =
        new TopicFollower<>(
                consumer,
                List.of(checkpointsTopic.name(), rolloutsTopic.name()),
                TopicFollower.Start.beginning(),
                this::apply)
            .onCaughtUp(
                () ->
                    LOG.info(
                        "Registry read: {} model(s) with checkpoints, {} rollout state(s)",
                        checkpoints.size(),
                        rollouts.size()));
  }

  /** The key of a tenant's model in the registries. */
  public static String key(String tenant, String model) {
    return tenant + "/" + model;
  }

  public void onRollout(BiConsumer<String, RolloutState> listener) {
    rolloutListeners.add(listener);
  }

  public void onCheckpoint(BiConsumer<String, CheckpointPublished> listener) {
    checkpointListeners.add(listener);
  }

  public RolloutState rollout(String key) {
    return rollouts.get(key);
  }

  public Map<String, RolloutState> rollouts() {
    return Map.copyOf(rollouts);
  }

  /** Every announced version of a tenant's model, oldest first. */
  public NavigableMap<Long, CheckpointPublished> checkpoints(String key) {
    NavigableMap<Long, CheckpointPublished> versions = checkpoints.get(key);
    return versions == null ? new java.util.TreeMap<>() : versions;
  }

  public CheckpointPublished checkpoint(String key, long version) {
    return checkpoints(key).get(version);
  }

  /** Every tenant/model with any checkpoint. */
  public List<String> models() {
    return new ArrayList<>(checkpoints.keySet());
  }

  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return follower.awaitCaughtUp(timeout);
  }

  public boolean caughtUp() {
    return follower.caughtUp();
  }

  /** Why following stopped working, or null. */
  public String problem() {
    String problem = follower.problem();
    return problem == null ? null : "registry follower stopped: " + problem;
  }

  public void stop() {
    follower.stop();
  }

  @Override
  public void run() {
    follower.run();
    if (follower.problem() != null) {
      LOG.error("Registry follower stopped: {}", follower.problem());
    }
  }

  private void apply(ConsumerRecord<String, byte[]> r) {
    if (r.value() == null) {
      // A tombstone: a trainer deleted that version from its store (retention) and withdrew it.
      int at = r.key() == null ? -1 : r.key().lastIndexOf('/');
      if (r.topic().equals(checkpointsTopic.name()) && at > 0) {
        try {
          long version = Long.parseLong(r.key().substring(at + 1));
          NavigableMap<Long, CheckpointPublished> versions =
              checkpoints.get(r.key().substring(0, at));
          if (versions != null) {
            versions.remove(version);
          }
        } catch (NumberFormatException e) {
          LOG.warn("Skipping a tombstone with an unreadable key {}", r.key());
        }
      }
      return;
    }
    try {
      if (r.topic().equals(checkpointsTopic.name())) {
        CheckpointPublished c = checkpointsTopic.valueSerde().deserialize(r.topic(), r.value());
        String key = key(c.getTenantId(), c.getModel());
        checkpoints.computeIfAbsent(key, k -> new ConcurrentSkipListMap<>()).put(c.getVersion(), c);
        checkpointListeners.forEach(l -> l.accept(key, c));
      } else {
        RolloutState s = rolloutsTopic.valueSerde().deserialize(r.topic(), r.value());
        String key = key(s.getTenantId(), s.getModel());
        rollouts.put(key, s);
        rolloutListeners.forEach(l -> l.accept(key, s));
      }
    } catch (RuntimeException e) {
      LOG.warn(
          "Skipping unreadable registry record {}-{}@{}: {}",
          r.topic(),
          r.partition(),
          r.offset(),
          e.getMessage());
    }
  }
}
