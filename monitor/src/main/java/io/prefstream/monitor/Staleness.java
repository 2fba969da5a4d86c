package io.prefstream.monitor;

import io.prefstream.avro.DriftReport;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When each figure was last reported anew, by the wall clock of this monitor, and whether it has
 * gone stale: no new window for {@code after}. A level only changes when a window reports, so
 * without this an idle tenant's last ALERT would stand forever (and its Prometheus alert fire
 * forever); a stale figure has no current level.
 */
final class Staleness {

  private record Seen(long windowEnd, long at) {}

  private final Duration after;
  private final Map<String, Seen> seen = new ConcurrentHashMap<>();

  Staleness(Duration after) {
    this.after = after;
  }

  /** Notes {@code report} under {@code key} as seen at {@code now} if it is a new window's. */
  void saw(String key, DriftReport report, long now) {
    long end = report.getWindowEnd().toEpochMilli();
    seen.compute(
        key,
        (k, before) -> before != null && before.windowEnd() == end ? before : new Seen(end, now));
  }

  /** Whether the figure under {@code key} has had no new window for longer than the limit. */
  boolean stale(String key, long now) {
    Seen s = seen.get(key);
    return s != null && now - s.at() > after.toMillis();
  }
}
