package io.prefstream.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class QuotasTest {

  private final AtomicLong now = new AtomicLong();
  private final Quotas quotas =
      new Quotas(
          new String[] {"events", "bytes"},
          tenant ->
              tenant.equals("big")
                  ? new Quotas.Rate[] {Quotas.Rate.UNLIMITED, Quotas.Rate.UNLIMITED}
                  : new Quotas.Rate[] {new Quotas.Rate(100, 500), new Quotas.Rate(1000, 5000)},
          now::get);

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void aBurstPassesThenTheRateHoldsAndTheWaitIsTold() {
    assertThat(quotas.take("a", 500, 100).granted()).isTrue();
    Quotas.Decision refused = quotas.take("a", 50, 10);
    assertThat(refused.granted()).isFalse();
    assertThat(refused.resource()).isEqualTo("events");
    assertThat(refused.retryAfter()).isEqualTo(Duration.ofMillis(500));
    assertThat(refused.retryAfterSeconds()).isEqualTo(1);
    assertThat(refused.neverFits()).isFalse();

    advance(Duration.ofMillis(500));
    assertThat(quotas.take("a", 50, 10).granted()).isTrue();
    assertThat(quotas.take("a", 1, 1).granted()).isFalse();
  }

  @Test
  void aRefusalTakesNothingSoTheOtherResourceIsNotSpent() {
    assertThat(quotas.take("a", 10, 5000).granted()).isTrue(); // bytes now empty
    Quotas.Decision refused = quotas.take("a", 10, 2000);
    assertThat(refused.resource()).isEqualTo("bytes");
    assertThat(refused.retryAfter()).isEqualTo(Duration.ofSeconds(2));
    advance(Duration.ofSeconds(2));
    // The 10 events refused above were not taken: 490 left, plus 2 s of refill (capped at 500).
    assertThat(quotas.take("a", 500, 2000).granted()).isTrue();
  }

  @Test
  void theScarcestResourceSetsTheWait() {
    quotas.take("a", 500, 5000);
    Quotas.Decision refused = quotas.take("a", 100, 4000);
    assertThat(refused.resource()).isEqualTo("bytes"); // 4 s against 1 s for the events
    assertThat(refused.retryAfterSeconds()).isEqualTo(4);
  }

  @Test
  void aRequestLargerThanTheBurstCanNeverPass() {
    Quotas.Decision refused = quotas.take("a", 501, 1);
    assertThat(refused.granted()).isFalse();
    assertThat(refused.neverFits()).isTrue();
    assertThat(refused.rate().burst()).isEqualTo(500);
  }

  @Test
  void tenantsHaveTheirOwnBucketsAndUnlimitedMeansUnlimited() {
    quotas.take("a", 500, 5000);
    assertThat(quotas.take("a", 1, 1).granted()).isFalse();
    assertThat(quotas.take("b", 500, 5000).granted()).isTrue();
    for (int i = 0; i < 1000; i++) {
      assertThat(quotas.take("big", 1e6, 1e9).granted()).isTrue();
    }
  }

  @Test
  void aRefusalIsAnsweredAs429WithRetryAfterOr413WhenNoWaitHelps() {
    quotas.take("a", 500, 0);
    RequestError wait = quotas.take("a", 50, 0).refusal("a", null);
    assertThat(wait.status()).isEqualTo(429);
    assertThat(wait.error()).isEqualTo("quota_exceeded");
    assertThat(wait.getMessage())
        .isEqualTo("tenant a is over its quota of 100 events/s; retry after 1 s");
    assertThat(wait.retryAfterSeconds()).isEqualTo(1);

    RequestError never = quotas.take("a", 0, 6000).refusal("a", "body");
    assertThat(never.status()).isEqualTo(413);
    assertThat(never.error()).isEqualTo("over_quota_burst");
    assertThat(never.field()).isEqualTo("body");
    assertThat(never.getMessage())
        .isEqualTo(
            "a request of 6000 bytes is more than tenant a's quota lets through at once (5000);"
                + " send smaller requests");
  }
}
