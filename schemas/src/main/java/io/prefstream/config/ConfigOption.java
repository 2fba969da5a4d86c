package io.prefstream.config;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One typed, defaulted, documented configuration key, like Flink's {@code ConfigOption}. Modules
 * declare theirs as constants in one options class and read them from {@link Settings}.
 *
 * @param key dotted lower-case name, e.g. {@code ingest.max-body-bytes}
 * @param type what the value means, shown in errors and docs (e.g. "size", "duration")
 * @param defaultValue used when the key is not set
 * @param description one sentence for the README and {@code --help}
 */
public record ConfigOption<T>(
    String key,
    String type,
    T defaultValue,
    String description,
    Function<String, T> parser,
    Function<T, String> validator) {

  private static final Pattern SIZE =
      Pattern.compile("(\\d+)\\s*(b|kb|kib|mb|mib|gb|gib)?", Pattern.CASE_INSENSITIVE);
  private static final Pattern DURATION =
      Pattern.compile("(\\d+)\\s*(ms|s|m|min|h|d)", Pattern.CASE_INSENSITIVE);

  public ConfigOption {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(defaultValue, "defaultValue of " + key);
    String problem = validator.apply(defaultValue);
    if (problem != null) {
      throw new IllegalArgumentException("default of " + key + " " + problem);
    }
  }

  /** The environment variable that sets this key: {@code PREFSTREAM_} + key upper-cased. */
  public String envName() {
    return "PREFSTREAM_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /**
   * Parses and validates a configured string, failing with the key, the expectation and the value.
   */
  public T parse(String raw) {
    T value;
    try {
      value = parser.apply(raw.trim());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          key + ": expected a " + type + ", got '" + raw + "' (" + e.getMessage() + ")", e);
    }
    String problem = validator.apply(value);
    if (problem != null) {
      throw new IllegalArgumentException(key + ": " + problem + ", got '" + raw + "'");
    }
    return value;
  }

  public static ConfigOption<Integer> intOption(
      String key, int defaultValue, int min, int max, String description) {
    return new ConfigOption<>(
        key,
        "whole number",
        defaultValue,
        description,
        Integer::parseInt,
        v -> v < min || v > max ? "must be in [" + min + ", " + max + "]" : null);
  }

  /**
   * Byte sizes: a number of bytes, or with a unit {@code KiB}, {@code MiB}, {@code GiB} (and
   * KB...).
   */
  public static ConfigOption<Long> sizeOption(
      String key, long defaultValue, long min, String description) {
    return new ConfigOption<>(
        key,
        "size (e.g. 1MiB)",
        defaultValue,
        description,
        ConfigOption::parseSize,
        v -> v < min ? "must be at least " + min + " bytes" : null);
  }

  /** Durations: ISO-8601 ({@code PT5M}) or a number with a unit: ms, s, m, h, d. */
  public static ConfigOption<Duration> durationOption(
      String key, Duration defaultValue, Duration min, String description) {
    return new ConfigOption<>(
        key,
        "duration (e.g. 30s, 5m, 24h)",
        defaultValue,
        description,
        ConfigOption::parseDuration,
        v -> v.compareTo(min) < 0 ? "must be at least " + min : null);
  }

  public static ConfigOption<Double> doubleOption(
      String key, double defaultValue, double min, double max, String description) {
    return new ConfigOption<>(
        key,
        "number",
        defaultValue,
        description,
        Double::parseDouble,
        v -> !(v >= min && v <= max) ? "must be in [" + min + ", " + max + "]" : null);
  }

  /** One of a fixed set of lower-case words. */
  public static ConfigOption<String> choiceOption(
      String key, String defaultValue, List<String> choices, String description) {
    return new ConfigOption<>(
        key,
        "one of " + String.join(", ", choices),
        defaultValue,
        description,
        s -> s.toLowerCase(Locale.ROOT),
        v -> choices.contains(v) ? null : "must be one of " + String.join(", ", choices));
  }

  public static ConfigOption<String> stringOption(
      String key, String defaultValue, String description) {
    return new ConfigOption<>(key, "string", defaultValue, description, s -> s, v -> null);
  }

  static long parseSize(String raw) {
    Matcher m = SIZE.matcher(raw);
    if (!m.matches()) {
      throw new IllegalArgumentException("a number of bytes with an optional unit KiB, MiB, GiB");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
    long factor =
        switch (unit) {
          case "b" -> 1L;
          case "kb" -> 1000L;
          case "kib" -> 1024L;
          case "mb" -> 1000_000L;
          case "mib" -> 1024L * 1024;
          case "gb" -> 1000_000_000L;
          default -> 1024L * 1024 * 1024;
        };
    return Math.multiplyExact(n, factor);
  }

  static Duration parseDuration(String raw) {
    if (raw.startsWith("P") || raw.startsWith("p")) {
      return Duration.parse(raw);
    }
    Matcher m = DURATION.matcher(raw);
    if (!m.matches()) {
      throw new IllegalArgumentException("ISO-8601 or a number with a unit ms, s, m, h, d");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2).toLowerCase(Locale.ROOT)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m", "min" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }
}
