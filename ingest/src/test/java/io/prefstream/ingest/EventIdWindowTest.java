package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.ingest.internal.EventIdWindow;
import io.prefstream.ingest.internal.EventIdWindow.Fresh;
import io.prefstream.ingest.internal.EventIdWindow.Pending;
import io.prefstream.ingest.internal.EventIdWindow.Seen;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class EventIdWindowTest {

  private static final class ManualClock extends Clock {
    Instant now = Instant.parse("2026-11-23T10:00:00Z");

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private final ManualClock clock = new ManualClock();
  private final EventIdWindow window = new EventIdWindow(Duration.ofHours(24), 1000, clock);

  @Test
  void confirmedIdIsSeenAndAPendingOneIsJoined() {
    Fresh fresh = (Fresh) window.claim("t", "e-1");

    EventIdWindow.Claim whileWriting = window.claim("t", "e-1");
    window.confirm(fresh.key());

    assertThat(whileWriting).isInstanceOf(Pending.class);
    assertThat(((Pending) whileWriting).write()).isCompleted();
    assertThat(window.claim("t", "e-1")).isInstanceOf(Seen.class);
    assertThat(window.claim("other-tenant", "e-1")).isInstanceOf(Fresh.class);
  }

  @Test
  void failedWriteIsForgottenSoThatARetryWritesIt() {
    Fresh fresh = (Fresh) window.claim("t", "e-1");
    Pending joined = (Pending) window.claim("t", "e-1");

    window.release(fresh.key(), new RuntimeException("broker down"));

    assertThat(joined.write()).isCompletedExceptionally();
    assertThat(window.claim("t", "e-1")).isInstanceOf(Fresh.class);
  }

  @Test
  void idsExpireAfterTheWindow() {
    window.confirm(((Fresh) window.claim("t", "e-1")).key());
    clock.now = clock.now.plus(Duration.ofHours(23));
    assertThat(window.claim("t", "e-1")).isInstanceOf(Seen.class);

    clock.now = clock.now.plus(Duration.ofHours(1));

    assertThat(window.claim("t", "e-1")).isInstanceOf(Fresh.class);
  }

  @Test
  void rememberedIdsFromTheTopicAreSeenUnlessAlreadyExpired() {
    window.remember("t", "old", clock.millis() - Duration.ofHours(25).toMillis());
    window.remember("t", "recent", clock.millis() - Duration.ofHours(1).toMillis());

    assertThat(window.claim("t", "recent")).isInstanceOf(Seen.class);
    assertThat(window.claim("t", "old")).isInstanceOf(Fresh.class);
  }

  @Test
  void fullWindowEvictsTheOldestAndCountsIt() {
    EventIdWindow small = new EventIdWindow(Duration.ofHours(24), 3, clock);
    for (int i = 0; i < 5; i++) {
      small.confirm(((Fresh) small.claim("t", "e-" + i)).key());
    }

    assertThat(small.size()).isEqualTo(3);
    assertThat(small.evictedEarly()).isEqualTo(2);
    assertThat(small.claim("t", "e-4")).isInstanceOf(Seen.class);
  }
}
