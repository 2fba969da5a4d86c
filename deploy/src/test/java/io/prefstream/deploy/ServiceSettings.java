package io.prefstream.deploy;

import io.prefstream.config.ConfigOption;
import io.prefstream.config.Settings;
import io.prefstream.http.ApiKeys;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.launcher.Prefstream;
import io.prefstream.launcher.stack.RunCommand;
import io.prefstream.launcher.stack.ServiceKind;
import io.prefstream.monitor.MonitorConfig;
import io.prefstream.pairs.PairBuilderConfig;
import io.prefstream.pairs.PairBuilderJob;
import io.prefstream.scorer.ScorerConfig;
import io.prefstream.trainer.TrainerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import picocli.CommandLine;

/**
 * What a container of the prefstream image may be given, checked the way the service reads it: its
 * arguments by the launcher's own command line, its PREFSTREAM_* variables against the keys the
 * service reads from the environment, and their values by the service's own configuration class.
 */
final class ServiceSettings {

  /** Variables every service reads besides its keys (launcher options, API keys). */
  static final Set<String> COMMON =
      Set.of(
          "PREFSTREAM_BOOTSTRAP",
          "PREFSTREAM_TOPIC_PREFIX",
          "PREFSTREAM_DATA_DIR",
          ApiKeys.ENV,
          ApiKeys.FILE_ENV);

  private ServiceSettings() {}

  /** The keys {@code run SERVICE} reads from PREFSTREAM_* variables. */
  static List<ConfigOption<?>> options(String service) {
    return RunCommand.SERVICES.contains(service) && !service.equals("kafka")
        ? List.copyOf(ServiceKind.named(service).options())
        : List.of();
  }

  /**
   * Problems with a prefstream container: {@code args} as given to the image's entry point (the
   * launcher), {@code env} its environment. Empty when the launcher and the service would take
   * both.
   */
  static List<String> problems(String where, List<String> args, Map<String, String> env) {
    List<String> problems = new ArrayList<>();
    try {
      new CommandLine(new Prefstream()).parseArgs(args.toArray(String[]::new));
    } catch (CommandLine.ParameterException e) {
      problems.add(where + ": the launcher refuses " + args + ": " + e.getMessage());
      return problems;
    }
    if (args.isEmpty() || !args.get(0).equals("run")) {
      if (env.keySet().stream().anyMatch(k -> k.startsWith("PREFSTREAM_") && !COMMON.contains(k))) {
        problems.add(where + ": service variables given to '" + args + "', which is no service");
      }
      return problems;
    }
    String service = args.size() > 1 ? args.get(1) : "";
    if (!RunCommand.SERVICES.contains(service)) {
      problems.add(where + ": 'run " + service + "' names no service of " + RunCommand.SERVICES);
      return problems;
    }
    List<ConfigOption<?>> options = options(service);
    Set<String> read = new java.util.HashSet<>(COMMON);
    options.forEach(o -> read.add(o.envName()));
    for (String name : new TreeMap<>(env).keySet()) {
      if (name.startsWith("PREFSTREAM_") && !read.contains(name)) {
        problems.add(where + ": " + name + " is read by no key of the " + service + " service");
      }
    }
    try {
      config(service, env);
    } catch (RuntimeException e) {
      problems.add(where + ": the " + service + " refuses its settings: " + e.getMessage());
    }
    return problems;
  }

  /** Builds the service's configuration from its environment, as {@code run SERVICE} does. */
  static Object config(String service, Map<String, String> env) {
    Settings settings = Settings.fromEnv(env, options(service));
    return switch (service) {
      case "ingest" -> IngestConfig.from(settings);
      case "scorer" -> ScorerConfig.from(settings);
      case "trainer" -> TrainerConfig.from(settings);
      case "monitor" -> MonitorConfig.from(settings);
      case "pair-builder" -> pairBuilder(List.of(), env);
      default -> env;
    };
  }

  /** The Flink job's configuration from its job arguments and environment, as its main reads it. */
  static PairBuilderConfig pairBuilder(List<String> args, Map<String, String> env) {
    return PairBuilderConfig.from(PairBuilderJob.settings(args.toArray(String[]::new), env));
  }
}
