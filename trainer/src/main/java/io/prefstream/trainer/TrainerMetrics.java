package io.prefstream.trainer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/** The trainer's Micrometer meters, tagged by the model's tenant. */
public final class TrainerMetrics {

  private final MeterRegistry registry;
  private final Map<String, AtomicReference<Double>> gauges = new ConcurrentHashMap<>();

  public TrainerMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public static TrainerMetrics inMemory() {
    return new TrainerMetrics(new SimpleMeterRegistry());
  }

  public MeterRegistry registry() {
    return registry;
  }

  public Counter counter(String name, String tenant, String... tags) {
    return registry.counter("prefstream.trainer." + name, Tags.of(tags).and("tenant", tenant));
  }

  /** Sets a gauge's value (registering it the first time). */
  public void gauge(String name, String tenant, double value) {
    gauges
        .computeIfAbsent(
            name + "|" + tenant,
            k -> {
              AtomicReference<Double> ref = new AtomicReference<>(Double.NaN);
              registry.gauge(
                  "prefstream.trainer." + name,
                  Tags.of("tenant", tenant),
                  ref,
                  AtomicReference::get);
              return ref;
            })
        .set(value);
  }

  public double count(String name, String tenant, String... tags) {
    Counter c =
        registry
            .find("prefstream.trainer." + name)
            .tags(Tags.of(tags).and("tenant", tenant))
            .counter();
    return c == null ? 0 : c.count();
  }
}
