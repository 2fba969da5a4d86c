package io.prefstream.http;

import static io.prefstream.config.ConfigOption.doubleOption;
import static io.prefstream.config.ConfigOption.sizeOption;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.config.Settings;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QuotaOptionsTest {

  private static final QuotaOptions OPTIONS =
      new QuotaOptions(
          "svc",
          Duration.ofSeconds(2),
          new QuotaOptions.Resource(
              "events", doubleOption("svc.quota.events-per-second", 100, 0, 1e9, "events")),
          new QuotaOptions.Resource(
              "bytes", sizeOption("svc.quota.bytes-per-second", 1000, 0, "bytes")));

  @Test
  void everyTenantGetsTheDefaultsAndANamedOneItsOwn() {
    Quotas quotas =
        OPTIONS.read(
            Settings.of(
                Map.of(
                    "svc.quota.tenant.acme.events-per-second", "10",
                    "svc.quota.tenant.free.tier.bytes-per-second", "0")),
            () -> 0L);
    // Defaults: 100/s with 2 s of burst.
    assertThat(quotas.take("other", 200, 2000).granted()).isTrue();
    assertThat(quotas.take("other", 1, 0).granted()).isFalse();
    // acme: 10 events/s, 20 of burst; its bytes keep the default.
    assertThat(quotas.take("acme", 21, 0).neverFits()).isTrue();
    assertThat(quotas.take("acme", 20, 2000).granted()).isTrue();
    // A tenant name may hold dots; 0 is no limit.
    assertThat(quotas.take("free.tier", 1, 1e12).granted()).isTrue();
  }

  @Test
  void aMistypedPerTenantKeyOrValueIsRefusedNamingTheKey() {
    assertThatThrownBy(
            () ->
                OPTIONS.read(
                    Settings.of(Map.of("svc.quota.tenant.acme.event-per-second", "10")), () -> 0L))
        .hasMessageContaining("svc.quota.tenant.acme.event-per-second")
        .hasMessageContaining("events-per-second or bytes-per-second");
    assertThatThrownBy(
            () ->
                OPTIONS.read(
                    Settings.of(Map.of("svc.quota.tenant.acme.bytes-per-second", "lots")),
                    () -> 0L))
        .hasMessageStartingWith("svc.quota.tenant.acme.bytes-per-second: expected a size");
  }
}
