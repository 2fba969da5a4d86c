package io.prefstream.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/compose.yaml, read as Compose reads it (anchors and merge keys resolved, ${VAR:-default}
 * interpolated with the defaults), checked against the code it runs: each prefstream container's
 * command by the launcher and its variables by its service, the pair builder's job arguments by the
 * job, the broker's image by the Kafka version the clients are built on, and every volume, file and
 * dependency it names.
 */
class ComposeFileTest {

  static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Z_]+):-([^}]*)}");

  static Map<String, Map<String, Object>> services;
  static Map<String, Object> volumes;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void read() throws Exception {
    Map<String, Object> compose;
    try (Reader in = Files.newBufferedReader(Path.of("compose.yaml"))) {
      compose = new Yaml().load(in);
    }
    services = (Map<String, Map<String, Object>>) compose.get("services");
    volumes = (Map<String, Object>) compose.get("volumes");
  }

  @SuppressWarnings("unchecked")
  static List<String> list(Map<String, Object> service, String key) {
    Object value = service.get(key);
    return value == null
        ? List.of()
        : ((List<Object>) value).stream().map(String::valueOf).toList();
  }

  /** A service's environment with Compose's ${VAR:-default} taken at the default. */
  @SuppressWarnings("unchecked")
  static Map<String, String> environment(Map<String, Object> service) {
    Map<String, String> env = new LinkedHashMap<>();
    Object value = service.get("environment");
    if (value != null) {
      ((Map<String, Object>) value)
          .forEach((k, v) -> env.put(k, interpolate(v == null ? "" : String.valueOf(v))));
    }
    return env;
  }

  static String interpolate(String value) {
    Matcher m = VARIABLE.matcher(value);
    return m.replaceAll(r -> Matcher.quoteReplacement(r.group(2)));
  }

  static String image(String repository) {
    return KubernetesManifestsTest.image(repository);
  }

  @Test
  void everyPrefstreamContainerIsOneTheLauncherAndItsServiceAccept() {
    List<String> problems = new ArrayList<>();
    List<String> run = new ArrayList<>();
    services.forEach(
        (name, service) -> {
          if (image("prefstream/prefstream").equals(service.get("image"))) {
            List<String> args = list(service, "command");
            problems.addAll(
                ServiceSettings.problems("compose service " + name, args, environment(service)));
            if (args.get(0).equals("run")) {
              run.add(args.get(1));
            }
          }
        });
    assertThat(problems).isEmpty();
    assertThat(run).containsExactlyInAnyOrder("ingest", "trainer", "scorer", "monitor");
    assertThat(list(services.get("topics"), "command")).containsExactly("topics", "--create");
  }

  @Test
  void servicesBootstrapFromTheBrokerWhichIsTheKafkaTheClientsAreBuiltOn() {
    Map<String, Object> kafka = services.get("kafka");
    assertThat(kafka.get("image"))
        .isEqualTo("apache/kafka:" + KubernetesManifestsTest.property("prefstream.kafka.version"));
    String advertised =
        environment(kafka).get("KAFKA_ADVERTISED_LISTENERS").replaceFirst("^PLAINTEXT://", "");
    services.forEach(
        (name, service) -> {
          if (image("prefstream/prefstream").equals(service.get("image"))) {
            assertThat(environment(service))
                .as(name)
                .containsEntry("PREFSTREAM_BOOTSTRAP", advertised);
          }
        });
    List<String> job = list(services.get("jobmanager"), "command");
    assertThat(ServiceSettings.pairBuilder(job, Map.of()).bootstrapServers()).isEqualTo(advertised);
  }

  @Test
  void thePairBuilderRunsOnAJobManagerAndTaskManagerThatShareRetainedCheckpoints()
      throws Exception {
    Map<String, Object> jm = services.get("jobmanager");
    Map<String, Object> tm = services.get("taskmanager");
    assertThat(jm.get("image")).isEqualTo(image("prefstream/pair-builder"));
    assertThat(tm.get("image")).isEqualTo(image("prefstream/pair-builder"));
    assertThat(list(tm, "command")).containsExactly("taskmanager");
    Path start = Path.of("flink", "start-pair-builder");
    assertThat(list(jm, "entrypoint")).containsExactly("/opt/flink/bin/" + start.getFileName());
    assertThat(Files.isExecutable(start)).isTrue();
    Properties flink = new Properties();
    flink.load(
        new java.io.StringReader(environment(jm).get("FLINK_PROPERTIES").replace(": ", "=")));
    assertThat(flink.getProperty("execution.checkpointing.externalized-checkpoint-retention"))
        .as("the start script resumes from retained checkpoints")
        .isEqualTo("RETAIN_ON_CANCELLATION");
    String checkpoints =
        flink.getProperty("execution.checkpointing.dir").replaceFirst("^file://", "");
    assertThat(Files.readString(start)).contains(checkpoints);
    for (Map<String, Object> node : List.of(jm, tm)) {
      assertThat(list(node, "volumes"))
          .anyMatch(
              v -> checkpoints.startsWith(v.split(":")[1]) && volumes.containsKey(v.split(":")[0]));
    }
  }

  @Test
  void theTrainerAndTheScorerShareTheCheckpointStoreAtOnePath() {
    List<String> trainer = list(services.get("trainer"), "volumes");
    List<String> scorer = list(services.get("scorer"), "volumes");
    assertThat(trainer).containsExactly("checkpoints:/var/lib/prefstream/checkpoints");
    assertThat(scorer).containsExactly("checkpoints:/var/lib/prefstream/checkpoints:ro");
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyVolumeFileDockerfileAndDependencyItNamesExists() {
    services.forEach(
        (name, service) -> {
          for (String v : list(service, "volumes")) {
            String source = v.split(":")[0];
            if (source.startsWith("./")) {
              assertThat(Path.of(source)).as(name + " mounts " + source).exists();
            } else {
              assertThat(volumes).as(name + " mounts volume " + source).containsKey(source);
            }
          }
          Object build = service.get("build");
          if (build != null) {
            Map<String, Object> b = (Map<String, Object>) build;
            Path context = Path.of(String.valueOf(b.get("context")));
            assertThat(context.resolve(String.valueOf(b.get("dockerfile")))).isRegularFile();
          }
          Object depends = service.get("depends_on");
          if (depends instanceof Map<?, ?> map) {
            assertThat(services.keySet())
                .as(name)
                .containsAll((java.util.Set<String>) map.keySet());
          } else if (depends instanceof List<?> names) {
            assertThat(services.keySet()).as(name).containsAll((List<String>) names);
          }
        });
  }

  @Test
  @SuppressWarnings("unchecked")
  void prometheusScrapesEveryServiceOnThePortItServes() throws Exception {
    Map<String, Object> config;
    try (Reader in = Files.newBufferedReader(Path.of("prometheus", "prometheus-compose.yml"))) {
      config = new Yaml().load(in);
    }
    List<String> targets = new ArrayList<>();
    for (Map<String, Object> job : (List<Map<String, Object>>) config.get("scrape_configs")) {
      for (Map<String, Object> s : (List<Map<String, Object>>) job.get("static_configs")) {
        targets.addAll((List<String>) s.get("targets"));
      }
    }
    for (String target : targets) {
      String host = target.split(":")[0];
      String port = target.split(":")[1];
      assertThat(services).as(target).containsKey(host);
      List<String> command = list(services.get(host), "command");
      if (command.contains("--port")) {
        // Its /metrics listener: the API's port + 1000 (*.metrics.port's default), apart from the
        // API; the trainer, which has no API, serves /metrics on its port.
        int apiPort = Integer.parseInt(command.get(command.indexOf("--port") + 1));
        int metricsPort = command.contains("trainer") ? apiPort : apiPort + 1000;
        assertThat(port).as(target).isEqualTo(Integer.toString(metricsPort));
      } else {
        assertThat(environment(services.get(host)).get("FLINK_PROPERTIES"))
            .as(target)
            .contains("metrics.reporter.prom.port: " + port);
      }
    }
    assertThat(targets).hasSize(6);
  }
}
