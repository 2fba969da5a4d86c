package io.prefstream.ingest.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The event ids each tenant had accepted inside the idempotency window, plus those being written
 * now. Ids are kept as 128-bit digests of tenant and id (collisions are out of reach) in insertion
 * order, so expiry is a walk from the oldest. Filled by this replica's own writes and by {@link
 * DedupFollower} from the feedback topic (other replicas, earlier runs).
 */
public final class EventIdWindow {

  /** The outcome of {@link #claim}. */
  public sealed interface Claim permits Fresh, Seen, Pending {}

  /** Nobody has it: the caller writes it and must {@link #confirm} or {@link #release}. */
  public record Fresh(Key key) implements Claim {}

  /** Accepted before, inside the window. */
  public record Seen() implements Claim {}

  /** Being written by another request; its future completes when the broker answers. */
  public record Pending(CompletableFuture<Void> write) implements Claim {}

  /** A 128-bit digest of tenant and event id. */
  public record Key(long high, long low) {}

  private static final class Entry {
    long atMillis;
    CompletableFuture<Void> pending;

    Entry(long atMillis, CompletableFuture<Void> pending) {
      this.atMillis = atMillis;
      this.pending = pending;
    }
  }

  private static final ThreadLocal<MessageDigest> SHA256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("every JVM has SHA-256", e);
            }
          });

  private final long windowMillis;
  private final int maxEntries;
  private final Clock clock;
  private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>();
  private long evictedEarly;

  public EventIdWindow(Duration window, int maxEntries, Clock clock) {
    this.windowMillis = window.toMillis();
    this.maxEntries = maxEntries;
    this.clock = clock;
  }

  public static Key keyOf(String tenant, String eventId) {
    MessageDigest sha = SHA256.get();
    sha.reset();
    sha.update(tenant.getBytes(StandardCharsets.UTF_8));
    sha.update((byte) 0);
    byte[] digest = sha.digest(eventId.getBytes(StandardCharsets.UTF_8));
    ByteBuffer buffer = ByteBuffer.wrap(digest);
    return new Key(buffer.getLong(), buffer.getLong());
  }

  /** Claims an id for writing, or says it is seen or pending. */
  public synchronized Claim claim(String tenant, String eventId) {
    long now = clock.millis();
    expire(now);
    Key key = keyOf(tenant, eventId);
    Entry entry = entries.get(key);
    if (entry == null) {
      entries.put(key, new Entry(now, new CompletableFuture<>()));
      return new Fresh(key);
    }
    return entry.pending == null ? new Seen() : new Pending(entry.pending);
  }

  /** The write of a claimed id was acknowledged. */
  public void confirm(Key key) {
    CompletableFuture<Void> pending;
    synchronized (this) {
      Entry entry = entries.get(key);
      if (entry == null || entry.pending == null) {
        return;
      }
      pending = entry.pending;
      entry.pending = null;
    }
    pending.complete(null);
  }

  /** The write of a claimed id failed: forget it so that a retry may write it. */
  public void release(Key key, Throwable cause) {
    CompletableFuture<Void> pending;
    synchronized (this) {
      Entry entry = entries.get(key);
      if (entry == null || entry.pending == null) {
        return;
      }
      entries.remove(key);
      pending = entry.pending;
    }
    pending.completeExceptionally(cause);
  }

  /** Records an id seen on the topic (another replica's write, or one from before a restart). */
  public synchronized void remember(String tenant, String eventId, long atMillis) {
    if (clock.millis() - atMillis >= windowMillis) {
      return;
    }
    entries.putIfAbsent(keyOf(tenant, eventId), new Entry(atMillis, null));
    if (entries.size() > maxEntries) {
      expire(clock.millis());
    }
  }

  public synchronized int size() {
    return entries.size();
  }

  /** Ids forgotten before their window ended because the window held {@code maxEntries}. */
  public synchronized long evictedEarly() {
    return evictedEarly;
  }

  private void expire(long now) {
    Iterator<Map.Entry<Key, Entry>> it = entries.entrySet().iterator();
    while (it.hasNext()) {
      Entry oldest = it.next().getValue();
      boolean expired = now - oldest.atMillis >= windowMillis;
      boolean over = entries.size() >= maxEntries;
      if (oldest.pending != null || !(expired || over)) {
        return;
      }
      if (!expired) {
        evictedEarly++;
      }
      it.remove();
    }
  }
}
