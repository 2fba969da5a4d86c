package io.prefstream.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.avro.AlertLevel;
import io.prefstream.avro.DriftReport;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StalenessTest {

  static {
    io.prefstream.schemas.RecordTypes.ALL.size(); // trusts the generated Avro classes
  }

  private static DriftReport report(Instant windowEnd) {
    DriftReport r =
        MonitorTopology.report(
            "acme",
            "reward",
            1L,
            "score_psi",
            0.4,
            50,
            windowEnd.minusSeconds(60),
            windowEnd,
            Map.of());
    r.setLevel(AlertLevel.ALERT);
    return r;
  }

  @Test
  void aFigureWithoutANewWindowGoesStaleAndANewWindowRevivesIt() {
    Staleness staleness = new Staleness(Duration.ofMinutes(10));
    Instant end = Instant.parse("2026-12-04T10:01:00Z");
    long t0 = 1_000_000;
    staleness.saw("k", report(end), t0);
    assertThat(staleness.stale("k", t0 + Duration.ofMinutes(10).toMillis())).isFalse();
    // Read again and again from the store, the same window does not count as news.
    staleness.saw("k", report(end), t0 + Duration.ofMinutes(9).toMillis());
    assertThat(staleness.stale("k", t0 + Duration.ofMinutes(11).toMillis())).isTrue();
    // A new window's report: current again.
    long later = t0 + Duration.ofMinutes(12).toMillis();
    staleness.saw("k", report(end.plusSeconds(60)), later);
    assertThat(staleness.stale("k", later + 1000)).isFalse();
    assertThat(staleness.stale("never-seen", later)).isFalse();
  }
}
