package io.prefstream.model;

import io.prefstream.config.ConfigOption;
import io.prefstream.config.Settings;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a reward model is: its type and every {@code model.*} value it was built with (defaults
 * written out), so that the same spec always builds the same network and featurizer. Stored in each
 * checkpoint's manifest.
 *
 * @param type the model type, e.g. {@code ngram-mlp}
 * @param config every {@code model.*} key and its value, defaults included
 */
public record ModelSpec(String type, Map<String, String> config) {

  public ModelSpec {
    config = Map.copyOf(config);
  }

  /** Reads {@code model.*} keys, failing on unknown ones, and writes every default out. */
  public static ModelSpec from(Settings settings) {
    settings.requireKnown("model.", ModelOptions.ALL);
    Map<String, String> config = new TreeMap<>();
    for (ConfigOption<?> option : ModelOptions.ALL) {
      if (!ModelOptions.PROCESS.contains(option)) {
        config.put(option.key(), String.valueOf(settings.get(option)));
      }
    }
    return new ModelSpec(settings.get(ModelOptions.TYPE), config);
  }

  public static ModelSpec defaults() {
    return from(Settings.empty());
  }

  /** This spec's typed value of an option. */
  public <T> T get(ConfigOption<T> option) {
    return Settings.of(config).get(option);
  }

  /** A copy with one key changed (validated when read). */
  public ModelSpec with(ConfigOption<?> option, Object value) {
    Map<String, String> changed = new TreeMap<>(config);
    changed.put(option.key(), String.valueOf(value));
    return new ModelSpec(option == ModelOptions.TYPE ? String.valueOf(value) : type, changed);
  }
}
