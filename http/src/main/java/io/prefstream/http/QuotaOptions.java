package io.prefstream.http;

import static io.prefstream.config.ConfigOption.durationOption;

import io.prefstream.config.ConfigOption;
import io.prefstream.config.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * A service's per-tenant quota keys: for each resource a rate every tenant gets ({@code
 * ingest.quota.events-per-second}), a burst ({@code ingest.quota.burst}: a bucket holds that many
 * seconds of its rate), and per-tenant rates ({@code ingest.quota.tenant.acme.events-per-second}),
 * read into {@link Quotas}. A rate of 0 is no limit.
 */
public final class QuotaOptions {

  /** A limited resource and the option of its default rate (per second). */
  public record Resource(String name, ConfigOption<? extends Number> rate) {}

  private final String service;
  private final List<Resource> resources;
  private final ConfigOption<Duration> burst;

  public QuotaOptions(String service, Duration defaultBurst, Resource... resources) {
    this.service = service;
    this.resources = List.of(resources);
    this.burst =
        durationOption(
            service + ".quota.burst",
            defaultBurst,
            Duration.ofMillis(100),
            "A tenant's bucket holds this many seconds of its rate: the burst it may send at once"
                + " after being idle, and the largest request that can pass.");
    for (Resource r : resources) {
      if (!r.rate().key().startsWith(service + ".quota.")) {
        throw new IllegalArgumentException(r.rate().key() + " is not under " + service + ".quota.");
      }
    }
  }

  /** The prefix of per-tenant keys: {@code SERVICE.quota.tenant.}. */
  public String tenantPrefix() {
    return service + ".quota.tenant.";
  }

  public ConfigOption<Duration> burst() {
    return burst;
  }

  /** The default rates and the burst (per-tenant keys are read apart). */
  public List<ConfigOption<?>> all() {
    List<ConfigOption<?>> all = new ArrayList<>();
    resources.forEach(r -> all.add(r.rate()));
    all.add(burst);
    return List.copyOf(all);
  }

  /**
   * Every tenant's rates from {@code settings}, checked: a per-tenant key must name a resource
   * ({@code SERVICE.quota.tenant.TENANT.RESOURCE-KEY}) and hold a valid rate.
   *
   * @throws IllegalArgumentException naming the key
   */
  public Quotas read(Settings settings, LongSupplier nanos) {
    double seconds = settings.get(burst).toNanos() / 1e9;
    Quotas.Rate[] defaults = new Quotas.Rate[resources.size()];
    for (int i = 0; i < defaults.length; i++) {
      defaults[i] = rate(settings.get(resources.get(i).rate()).doubleValue(), seconds);
    }
    Map<String, Quotas.Rate[]> tenants = new TreeMap<>();
    Map<String, String> perTenant = settings.under(tenantPrefix());
    for (Map.Entry<String, String> e : new TreeMap<>(perTenant).entrySet()) {
      String key = tenantPrefix() + e.getKey();
      int dot = e.getKey().lastIndexOf('.');
      String tenant = dot > 0 ? e.getKey().substring(0, dot) : "";
      String suffix = e.getKey().substring(dot + 1);
      int index = -1;
      for (int i = 0; i < resources.size(); i++) {
        if (resources.get(i).rate().key().equals(service + ".quota." + suffix)) {
          index = i;
        }
      }
      if (tenant.isEmpty() || index < 0) {
        throw new IllegalArgumentException(
            "unknown config key "
                + key
                + "; per-tenant quota keys are "
                + tenantPrefix()
                + "TENANT."
                + suffixes());
      }
      ConfigOption<? extends Number> option = resources.get(index).rate();
      Number value = asKey(option, key).parse(e.getValue());
      tenants.computeIfAbsent(tenant, t -> defaults.clone())[index] =
          rate(value.doubleValue(), seconds);
    }
    Map<String, Quotas.Rate[]> frozen = new HashMap<>(tenants);
    String[] names = resources.stream().map(Resource::name).toArray(String[]::new);
    return new Quotas(names, t -> frozen.getOrDefault(t, defaults), nanos);
  }

  private String suffixes() {
    List<String> s = new ArrayList<>();
    resources.forEach(r -> s.add(r.rate().key().substring((service + ".quota.").length())));
    return String.join(" or ", s);
  }

  private static <T> ConfigOption<T> asKey(ConfigOption<T> option, String key) {
    return new ConfigOption<>(
        key,
        option.type(),
        option.defaultValue(),
        option.description(),
        option.parser(),
        option.validator());
  }

  private static Quotas.Rate rate(double perSecond, double burstSeconds) {
    return perSecond <= 0
        ? Quotas.Rate.UNLIMITED
        : new Quotas.Rate(perSecond, perSecond * burstSeconds);
  }
}
