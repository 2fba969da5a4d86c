package io.prefstream.http;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The Prometheus registry every prefstream service serves on {@code /metrics}, with the meters of
 * the libraries it binds (Kafka's clients, the JVM and process) made to pass {@code promtool check
 * metrics} as prefstream's own do: every meter has HELP; a gauge is not named {@code *_count} (that
 * suffix is a histogram's), so {@code kafka.producer.connection.count} is served as {@code
 * kafka_producer_connections}; and a meter whose name carries an abbreviated unit ({@code
 * *_time_ns_total}, {@code *_start_time_ms}), whose value a filter cannot rescale to seconds, is
 * left out (the Kafka clients' cumulative nanosecond timers; the JVM's process CPU time, which
 * {@code process_cpu_usage} covers).
 */
public final class PrometheusRegistries {

  private static final Set<String> ABBREVIATED_UNITS = Set.of("ns", "us", "ms");

  private PrometheusRegistries() {}

  /** A new registry with {@link #HYGIENE}. */
  public static PrometheusMeterRegistry create() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().meterFilter(HYGIENE);
    return registry;
  }

  /** The filter: leaves out abbreviated units, renames {@code *.count} gauges, adds HELP. */
  public static final MeterFilter HYGIENE =
      new MeterFilter() {
        @Override
        public MeterFilterReply accept(Meter.Id id) {
          List<String> tokens = List.of(id.getName().split("[._-]"));
          boolean abbreviated =
              tokens.stream().anyMatch(ABBREVIATED_UNITS::contains)
                  || ABBREVIATED_UNITS.contains(String.valueOf(id.getBaseUnit()));
          // A Kafka client's *.count gauge is left out, not renamed: Micrometer's Kafka binder
          // looks its meters up by their own names and would register a renamed one again.
          boolean kafkaCount =
              id.getName().startsWith("kafka.")
                  && id.getName().endsWith(".count")
                  && !histogram(id);
          return abbreviated || kafkaCount ? MeterFilterReply.DENY : MeterFilterReply.NEUTRAL;
        }

        @Override
        public Meter.Id map(Meter.Id id) {
          String name = id.getName();
          if (!histogram(id) && id.getType() != Meter.Type.COUNTER && name.endsWith(".count")) {
            name = plural(name.substring(0, name.length() - ".count".length()));
          }
          String description = id.getDescription();
          if (description == null || description.isBlank()) {
            description =
                (name.startsWith("kafka.") ? "Kafka client metric " : "Metric ")
                    + name.replace('.', ' ').toLowerCase(Locale.ROOT);
          }
          if (name.equals(id.getName()) && description.equals(id.getDescription())) {
            return id;
          }
          return new Meter.Id(
              name,
              id.getTagsAsIterable() instanceof io.micrometer.core.instrument.Tags t
                  ? t
                  : io.micrometer.core.instrument.Tags.of(id.getTags()),
              id.getBaseUnit(),
              description,
              id.getType());
        }
      };

  private static boolean histogram(Meter.Id id) {
    return id.getType() == Meter.Type.TIMER || id.getType() == Meter.Type.DISTRIBUTION_SUMMARY;
  }

  /** {@code system.cpu} to {@code system.cpus}. */
  private static String plural(String name) {
    return name.endsWith("s") ? name : name + "s";
  }
}
