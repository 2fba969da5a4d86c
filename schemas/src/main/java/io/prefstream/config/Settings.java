package io.prefstream.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Configured values as strings, read through typed {@link ConfigOption}s. Sources layer: a
 * properties file, then {@code PREFSTREAM_*} environment variables, then explicit overrides.
 */
public final class Settings {

  private final Map<String, String> values;

  private Settings(Map<String, String> values) {
    this.values = Map.copyOf(values);
  }

  public static Settings empty() {
    return new Settings(Map.of());
  }

  public static Settings of(Map<String, String> values) {
    return new Settings(values);
  }

  /** Reads a Java properties file ({@code key=value} lines). */
  /**
   * A service's command line: {@code [--config FILE] [key=value ...]}, each later one overriding
   * the earlier, all over {@code base} (e.g. the environment's settings).
   *
   * @throws IllegalArgumentException naming an argument that is neither
   */
  public static Settings fromArgs(Settings base, String[] args) {
    Settings settings = base;
    Map<String, String> overrides = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        settings = settings.overriddenBy(fromFile(Path.of(args[++i])));
      } else if (args[i].contains("=")) {
        String[] kv = args[i].split("=", 2);
        overrides.put(kv[0], kv[1]);
      } else {
        throw new IllegalArgumentException(
            "expected --config FILE or key=value, got '" + args[i] + "'");
      }
    }
    return settings.overriddenBy(of(overrides));
  }

  public static Settings fromFile(Path file) {
    Properties props = new Properties();
    try (Reader reader = Files.newBufferedReader(file)) {
      props.load(reader);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read config file " + file + ": " + e, e);
    }
    Map<String, String> map = new HashMap<>();
    props.stringPropertyNames().forEach(k -> map.put(k, props.getProperty(k)));
    return new Settings(map);
  }

  /**
   * The values of the given options that the environment sets, by {@link ConfigOption#envName()}.
   */
  public static Settings fromEnv(Map<String, String> env, Collection<ConfigOption<?>> options) {
    Map<String, String> map = new HashMap<>();
    for (ConfigOption<?> option : options) {
      String value = env.get(option.envName());
      if (value != null && !value.isBlank()) {
        map.put(option.key(), value);
      }
    }
    return new Settings(map);
  }

  /** These settings with {@code other}'s values on top. */
  public Settings overriddenBy(Settings other) {
    Map<String, String> map = new HashMap<>(values);
    map.putAll(other.values);
    return new Settings(map);
  }

  public <T> T get(ConfigOption<T> option) {
    String raw = values.get(option.key());
    return raw == null ? option.defaultValue() : option.parse(raw);
  }

  public boolean contains(ConfigOption<?> option) {
    return values.containsKey(option.key());
  }

  /**
   * The values under {@code prefix} with the prefix removed, for settings passed through to a
   * library's own configuration (e.g. {@code flink.state.backend.type} becomes Flink's {@code
   * state.backend.type}).
   */
  public Map<String, String> under(String prefix) {
    Map<String, String> map = new HashMap<>();
    values.forEach(
        (k, v) -> {
          if (k.startsWith(prefix) && k.length() > prefix.length()) {
            map.put(k.substring(prefix.length()), v);
          }
        });
    return Map.copyOf(map);
  }

  /** These settings without the keys under {@code prefix} (read apart, e.g. per-tenant keys). */
  public Settings without(String prefix) {
    Map<String, String> map = new HashMap<>(values);
    map.keySet().removeIf(k -> k.startsWith(prefix));
    return new Settings(map);
  }

  /**
   * Fails on keys under {@code prefix} that no option declares, so a typo does not silently keep
   * the default.
   */
  public Settings requireKnown(String prefix, Collection<ConfigOption<?>> options) {
    Set<String> known = options.stream().map(ConfigOption::key).collect(Collectors.toSet());
    Set<String> unknown = new TreeSet<>();
    for (String key : values.keySet()) {
      if (key.startsWith(prefix) && !known.contains(key)) {
        unknown.add(key);
      }
    }
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "unknown config key(s) " + unknown + "; known keys: " + new TreeSet<>(known));
    }
    return this;
  }

  @Override
  public String toString() {
    return "Settings" + new TreeSet<>(values.keySet());
  }
}
