package io.prefstream.http;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Per-tenant token buckets over one or more resources (ingest: events and bytes; the scorer:
 * candidates), taken together: a request is granted only when every resource has the tokens, and
 * then takes them all, so one tenant's flood is refused (429 with when to retry) before it costs
 * the others anything. Each bucket refills at its rate up to its burst. Hand-written rather than
 * Bucket4j: taking from several buckets at once, all or none, with the wait for the scarcest, is
 * the whole of what is needed, and a single lock per tenant does it.
 */
public final class Quotas {

  /**
   * A resource's limit for one tenant.
   *
   * @param perSecond refill rate; 0 or less: unlimited
   * @param burst tokens a bucket holds at most (the largest request that can ever pass)
   */
  public record Rate(double perSecond, double burst) {

    public static final Rate UNLIMITED = new Rate(0, 0);

    public boolean unlimited() {
      return perSecond <= 0;
    }
  }

  /**
   * What a request was told.
   *
   * @param resource when refused, the resource short of tokens
   * @param rate when refused, that resource's rate for the tenant
   * @param retryAfter when refused, how long until the bucket holds enough
   * @param neverFits when refused, whether the request is larger than the burst, so no wait helps
   * @param requested when refused, how much of that resource the request asked for
   */
  public record Decision(
      boolean granted,
      String resource,
      Rate rate,
      Duration retryAfter,
      boolean neverFits,
      double requested) {

    static final Decision GRANTED = new Decision(true, null, null, Duration.ZERO, false, 0);

    /** Whole seconds to wait, at least 1: the {@code Retry-After} header's value. */
    public long retryAfterSeconds() {
      return Math.max(1, (retryAfter.toMillis() + 999) / 1000);
    }

    /**
     * The answer to a refused request of {@code tenant}: 413 {@code over_quota_burst} naming {@code
     * field} when no wait lets it through, else 429 {@code quota_exceeded} with Retry-After.
     */
    public RequestError refusal(String tenant, String field) {
      if (neverFits) {
        return new RequestError(
            413,
            "over_quota_burst",
            field,
            String.format(
                Locale.ROOT,
                "a request of %d %s is more than tenant %s's quota lets through at once (%d);"
                    + " send smaller requests",
                (long) requested,
                resource,
                tenant,
                (long) rate.burst()));
      }
      double perSecond = rate.perSecond();
      return new RequestError(
          429,
          "quota_exceeded",
          null,
          String.format(
              Locale.ROOT,
              "tenant %s is over its quota of %s %s/s; retry after %d s",
              tenant,
              perSecond == Math.rint(perSecond)
                  ? Long.toString((long) perSecond)
                  : String.format(Locale.ROOT, "%.1f", perSecond),
              resource,
              retryAfterSeconds()),
          retryAfterSeconds());
    }
  }

  private final String[] resources;
  private final Function<String, Rate[]> ratesOf;
  private final LongSupplier nanos;
  private final Map<String, Buckets> buckets = new ConcurrentHashMap<>();

  /**
   * @param resources the resources' names, in the order {@link #take} is given amounts
   * @param ratesOf a tenant's rate for each resource, in that order
   * @param nanos a monotonic clock ({@code System::nanoTime})
   */
  public Quotas(String[] resources, Function<String, Rate[]> ratesOf, LongSupplier nanos) {
    this.resources = resources.clone();
    this.ratesOf = ratesOf;
    this.nanos = nanos;
  }

  /** Takes {@code amounts} (one per resource) from {@code tenant}'s buckets, or none of them. */
  public Decision take(String tenant, double... amounts) {
    if (amounts.length != resources.length) {
      throw new IllegalArgumentException(
          "expected " + resources.length + " amounts, got " + amounts.length);
    }
    return buckets.computeIfAbsent(tenant, t -> new Buckets(ratesOf.apply(t))).take(amounts);
  }

  private final class Buckets {
    private final Rate[] rates;
    private final double[] tokens;
    private long last;

    Buckets(Rate[] rates) {
      if (rates.length != resources.length) {
        throw new IllegalArgumentException("a rate per resource is needed");
      }
      this.rates = rates.clone();
      this.tokens = new double[rates.length];
      for (int i = 0; i < rates.length; i++) {
        tokens[i] = rates[i].burst();
      }
      this.last = nanos.getAsLong();
    }

    synchronized Decision take(double[] amounts) {
      long now = nanos.getAsLong();
      double seconds = Math.max(0, now - last) / 1e9;
      last = now;
      for (int i = 0; i < rates.length; i++) {
        if (!rates[i].unlimited()) {
          tokens[i] = Math.min(rates[i].burst(), tokens[i] + seconds * rates[i].perSecond());
        }
      }
      Decision refused = null;
      double longest = -1;
      for (int i = 0; i < rates.length; i++) {
        Rate rate = rates[i];
        if (rate.unlimited() || amounts[i] <= tokens[i]) {
          continue;
        }
        if (amounts[i] > rate.burst()) {
          return new Decision(false, resources[i], rate, Duration.ZERO, true, amounts[i]);
        }
        double wait = (amounts[i] - tokens[i]) / rate.perSecond();
        if (wait > longest) {
          longest = wait;
          refused =
              new Decision(
                  false,
                  resources[i],
                  rate,
                  Duration.ofNanos((long) (wait * 1e9)),
                  false,
                  amounts[i]);
        }
      }
      if (refused != null) {
        return refused;
      }
      for (int i = 0; i < rates.length; i++) {
        if (!rates[i].unlimited()) {
          tokens[i] -= amounts[i];
        }
      }
      return Decision.GRANTED;
    }
  }
}
