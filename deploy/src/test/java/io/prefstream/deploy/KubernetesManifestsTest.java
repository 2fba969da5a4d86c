package io.prefstream.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.kafka.listener.GenericKafkaListener;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;
import org.apache.kafka.storage.internals.log.LogConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every Kubernetes manifest under deploy/kubernetes, read into the typed model of its API (so a
 * misspelled field fails the build), and then checked against the code it deploys: container
 * arguments by the launcher's command line, PREFSTREAM_* variables by the services' own keys and
 * configuration classes, KafkaTopics against the topic definitions, broker and topic configs
 * against Kafka's, and references between the resources (ports, selectors, claims, config maps).
 */
class KubernetesManifestsTest {

  static final Path DIR = Path.of("kubernetes");

  /** Created by the operator of the cluster, never kept in the repository (see config.yaml). */
  static final Set<String> EXTERNAL_SECRETS = Set.of("prefstream-api-keys");

  static List<TypedManifests.Resource> resources;

  @BeforeAll
  static void readEveryManifest() throws Exception {
    TypedManifests reader = new TypedManifests(property("prefstream.flink.version"));
    resources = new ArrayList<>();
    for (Path file : manifestFiles()) {
      resources.addAll(reader.read(file));
    }
  }

  static String property(String name) {
    return Objects.requireNonNull(System.getProperty(name), name + " (set by the pom)");
  }

  static List<Path> manifestFiles() throws IOException {
    try (Stream<Path> files = Files.list(DIR)) {
      return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    }
  }

  static <T> List<T> all(Class<T> type) {
    return resources.stream()
        .filter(r -> type.isInstance(r.typed()))
        .map(r -> type.cast(r.typed()))
        .toList();
  }

  static <T extends io.fabric8.kubernetes.api.model.HasMetadata> T named(
      Class<T> type, String name) {
    return all(type).stream()
        .filter(r -> r.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
  }

  @Test
  void everyManifestReadsIntoItsApisModelAndNamesAreUniquePerKind() {
    assertThat(resources).hasSizeGreaterThan(20);
    assertThat(resources.stream().map(r -> r.kind()).collect(Collectors.toSet()))
        .contains(
            "Kafka",
            "KafkaNodePool",
            "KafkaTopic",
            "FlinkDeployment",
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "PersistentVolumeClaim",
            "ServiceMonitor",
            "PrometheusRule");
    Set<String> seen = new TreeSet<>();
    for (TypedManifests.Resource r : resources) {
      assertThat(seen.add(r.kind() + "/" + r.name())).as(r.source() + " is defined twice").isTrue();
    }
  }

  @Test
  void everyPrefstreamContainerIsOneTheLauncherAndItsServiceAccept() {
    List<String> problems = new ArrayList<>();
    for (Deployment d : all(Deployment.class)) {
      for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
        String where = "Deployment " + d.getMetadata().getName() + " container " + c.getName();
        assertThat(c.getImage())
            .as(where)
            .isIn(image("prefstream/prefstream"), image("prefstream/prefstream-gpu"));
        problems.addAll(ServiceSettings.problems(where, c.getArgs(), environment(c)));
      }
    }
    assertThat(problems).isEmpty();
    // Each service of `run` that is not Kafka (Strimzi) or Flink (the operator) runs here.
    Set<String> services =
        all(Deployment.class).stream()
            .flatMap(d -> d.getSpec().getTemplate().getSpec().getContainers().stream())
            .map(c -> c.getArgs().get(1))
            .collect(Collectors.toSet());
    assertThat(services).containsExactlyInAnyOrder("ingest", "scorer", "trainer", "monitor");
  }

  /** An image tag is the project's version without -SNAPSHOT, as the Dockerfiles document. */
  static String image(String repository) {
    return repository + ":" + property("prefstream.version").replace("-SNAPSHOT", "");
  }

  /** A container's variables: its ConfigMaps' (envFrom) under its own (env). */
  static Map<String, String> environment(Container c) {
    Map<String, String> env = new HashMap<>();
    for (EnvFromSource from : c.getEnvFrom()) {
      if (from.getConfigMapRef() != null) {
        env.putAll(named(ConfigMap.class, from.getConfigMapRef().getName()).getData());
      } else {
        assertThat(from.getSecretRef().getName()).isIn(EXTERNAL_SECRETS);
      }
    }
    for (EnvVar v : c.getEnv()) {
      env.put(v.getName(), v.getValue() == null ? "" : v.getValue());
    }
    return env;
  }

  @Test
  void referencesBetweenResourcesResolve() {
    for (Deployment d : all(Deployment.class)) {
      String name = d.getMetadata().getName();
      PodSpec pod = d.getSpec().getTemplate().getSpec();
      assertThat(d.getSpec().getTemplate().getMetadata().getLabels())
          .as(name + " selects its own pods")
          .containsAllEntriesOf(d.getSpec().getSelector().getMatchLabels());
      Set<String> volumes =
          pod.getVolumes().stream().map(Volume::getName).collect(Collectors.toSet());
      for (Volume v : pod.getVolumes()) {
        if (v.getPersistentVolumeClaim() != null) {
          named(PersistentVolumeClaim.class, v.getPersistentVolumeClaim().getClaimName());
        }
      }
      for (Container c : pod.getContainers()) {
        Set<String> ports =
            c.getPorts().stream().map(ContainerPort::getName).collect(Collectors.toSet());
        for (Probe p :
            Stream.of(c.getStartupProbe(), c.getReadinessProbe(), c.getLivenessProbe())
                .filter(Objects::nonNull)
                .toList()) {
          IntOrString port =
              p.getHttpGet() != null ? p.getHttpGet().getPort() : p.getTcpSocket().getPort();
          assertThat(port.getStrVal()).as(name + " probes a named port").isIn(ports);
        }
        for (VolumeMount m : c.getVolumeMounts()) {
          assertThat(m.getName()).as(name + " mounts a volume it has").isIn(volumes);
        }
        // Every quantity parses (a misspelled unit fails here, not at apply time).
        c.getResources().getRequests().values().forEach(Quantity::getAmountInBytes);
        c.getResources().getLimits().values().forEach(Quantity::getAmountInBytes);
        assertThat(c.getResources().getRequests())
            .as(name + " requests")
            .containsKeys("cpu", "memory");
        // The launcher serves on the port it is told, and the container says so: a service with
        // an API ("http") has its /metrics listener apart, on that port + 1000 (*.metrics.port's
        // default); the trainer's one port is its /metrics.
        int argPort = Integer.parseInt(c.getArgs().get(c.getArgs().indexOf("--port") + 1));
        Map<String, Integer> named =
            c.getPorts().stream()
                .collect(Collectors.toMap(ContainerPort::getName, ContainerPort::getContainerPort));
        if (named.containsKey("http")) {
          assertThat(named)
              .as(name)
              .containsOnly(entry("http", argPort), entry("metrics", argPort + 1000));
        } else {
          assertThat(named).as(name).containsOnly(entry("metrics", argPort));
        }
      }
    }
    for (Service s : all(Service.class)) {
      Deployment target =
          all(Deployment.class).stream()
              .filter(d -> selects(s.getSpec().getSelector(), d))
              .findFirst()
              .orElseThrow(
                  () ->
                      new AssertionError(
                          "Service " + s.getMetadata().getName() + " selects no pods"));
      Set<String> ports =
          target.getSpec().getTemplate().getSpec().getContainers().stream()
              .flatMap(c -> c.getPorts().stream())
              .map(ContainerPort::getName)
              .collect(Collectors.toSet());
      for (ServicePort p : s.getSpec().getPorts()) {
        assertThat(p.getTargetPort().getStrVal()).isIn(ports);
      }
    }
    for (HorizontalPodAutoscaler h : all(HorizontalPodAutoscaler.class)) {
      assertThat(h.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
      named(Deployment.class, h.getSpec().getScaleTargetRef().getName());
      assertThat(h.getSpec().getMinReplicas()).isLessThanOrEqualTo(h.getSpec().getMaxReplicas());
    }
    for (PodDisruptionBudget b : all(PodDisruptionBudget.class)) {
      assertThat(
              all(Deployment.class).stream()
                  .anyMatch(d -> selects(b.getSpec().getSelector().getMatchLabels(), d)))
          .as("PodDisruptionBudget " + b.getMetadata().getName() + " selects pods")
          .isTrue();
    }
  }

  /** Whether a label selector picks the Deployment's pods. */
  static boolean selects(Map<String, String> selector, Deployment d) {
    return d.getSpec()
        .getTemplate()
        .getMetadata()
        .getLabels()
        .entrySet()
        .containsAll(selector.entrySet());
  }

  @Test
  void ingestAndScorerScaleOutTheTrainerHasAGpuAndSharesTheStoreWithEveryScorer() {
    assertThat(all(HorizontalPodAutoscaler.class))
        .extracting(h -> h.getSpec().getScaleTargetRef().getName())
        .containsExactlyInAnyOrder("prefstream-ingest", "prefstream-scorer");
    Deployment trainer = named(Deployment.class, "prefstream-trainer");
    Deployment scorer = named(Deployment.class, "prefstream-scorer");
    Container t = trainer.getSpec().getTemplate().getSpec().getContainers().get(0);
    Container s = scorer.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(t.getResources().getLimits()).containsKey("nvidia.com/gpu");
    assertThat(t.getResources().getLimits().get("nvidia.com/gpu").getNumericalAmount().intValue())
        .isGreaterThanOrEqualTo(1);
    assertThat(t.getImage()).isEqualTo(image("prefstream/prefstream-gpu"));
    // One writer per store lineage: never two trainers of the same tenants at once.
    assertThat(trainer.getSpec().getReplicas()).isEqualTo(1);
    assertThat(trainer.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    // Announcements carry file: URIs, so the store is the same path in every pod.
    VolumeMount written = mount(trainer, t, "prefstream-checkpoints");
    VolumeMount read = mount(scorer, s, "prefstream-checkpoints");
    assertThat(read.getMountPath()).isEqualTo(written.getMountPath());
    assertThat(read.getReadOnly()).isTrue();
    assertThat(written.getReadOnly()).isNotEqualTo(Boolean.TRUE);
    assertThat(written.getMountPath()).isEqualTo("/var/lib/prefstream/checkpoints");
    assertThat(
            named(PersistentVolumeClaim.class, "prefstream-checkpoints").getSpec().getAccessModes())
        .containsExactly("ReadWriteMany");
  }

  private static VolumeMount mount(Deployment d, Container c, String claim) {
    String volume =
        d.getSpec().getTemplate().getSpec().getVolumes().stream()
            .filter(
                v ->
                    v.getPersistentVolumeClaim() != null
                        && v.getPersistentVolumeClaim().getClaimName().equals(claim))
            .map(Volume::getName)
            .findFirst()
            .orElseThrow(() -> new AssertionError(d.getMetadata().getName() + " has no " + claim));
    return c.getVolumeMounts().stream()
        .filter(m -> m.getName().equals(volume))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void kafkaTopicsAreTheTopicDefinitionsWithKafkasOwnConfigKeys() {
    Kafka kafka = all(Kafka.class).get(0);
    String cluster = kafka.getMetadata().getName();
    Set<String> brokerConfigs = KafkaConfig.configDef().names();
    Map<String, KafkaTopic> byName =
        all(KafkaTopic.class).stream()
            .collect(Collectors.toMap(t -> t.getSpec().getTopicName(), t -> t));
    Topics topics =
        Topics.withPrefix(
            named(ConfigMap.class, "prefstream-env").getData().get("PREFSTREAM_TOPIC_PREFIX"));
    assertThat(byName.keySet())
        .containsExactlyInAnyOrderElementsOf(topics.all().stream().map(Topic::name).toList());
    int minIsr =
        Integer.parseInt(
            kafka.getSpec().getKafka().getConfig().get("min.insync.replicas").toString());
    for (Topic<?> topic : topics.all()) {
      KafkaTopic k = byName.get(topic.name());
      assertThat(k.getMetadata().getLabels()).containsEntry("strimzi.io/cluster", cluster);
      if (topic.compacted()) {
        // Registries: one partition, so one reader sees every key in order.
        assertThat(k.getSpec().getPartitions()).as(topic.name()).isEqualTo(topic.partitions());
      } else {
        assertThat(k.getSpec().getPartitions())
            .as(topic.name())
            .isGreaterThanOrEqualTo(topic.partitions());
      }
      assertThat(k.getSpec().getReplicas()).as(topic.name()).isGreaterThan(minIsr);
      Map<String, String> config =
          k.getSpec().getConfig().entrySet().stream()
              .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().toString()));
      assertThat(config).as(topic.name()).containsAllEntriesOf(topic.configs());
      assertThat(LogConfig.configNames())
          .as("topic configs Kafka knows")
          .containsAll(config.keySet());
    }
    assertThat(kafka.getSpec().getKafka().getConfig().keySet())
        .as("broker configs Kafka knows")
        .allMatch(brokerConfigs::contains);
    for (KafkaNodePool pool : all(KafkaNodePool.class)) {
      assertThat(pool.getMetadata().getLabels()).containsEntry("strimzi.io/cluster", cluster);
      assertThat(pool.getSpec().getReplicas()).isGreaterThan(minIsr);
    }
  }

  @Test
  void everyServiceAndThePairBuilderBootstrapFromTheKafkaClustersListener() {
    Kafka kafka = all(Kafka.class).get(0);
    GenericKafkaListener plain =
        kafka.getSpec().getKafka().getListeners().stream()
            .filter(l -> !l.isTls())
            .findFirst()
            .orElseThrow();
    String bootstrap = kafka.getMetadata().getName() + "-kafka-bootstrap:" + plain.getPort();
    assertThat(named(ConfigMap.class, "prefstream-env").getData())
        .containsEntry("PREFSTREAM_BOOTSTRAP", bootstrap);
    FlinkDeployment job = named(FlinkDeployment.class, "prefstream-pair-builder");
    List<String> args = List.of(job.getSpec().getJob().getArgs());
    assertThat(ServiceSettings.pairBuilder(args, Map.of()).bootstrapServers()).isEqualTo(bootstrap);
  }

  @Test
  void thePairBuilderRunsTheJobJarsEntryClassWithArgumentsTheJobAccepts() throws Exception {
    FlinkDeployment job = named(FlinkDeployment.class, "prefstream-pair-builder");
    assertThat(job.getSpec().getImage()).isEqualTo(image("prefstream/pair-builder"));
    assertThat(
            Class.forName(job.getSpec().getJob().getEntryClass()).getMethod("main", String[].class))
        .isNotNull();
    ServiceSettings.pairBuilder(List.of(job.getSpec().getJob().getArgs()), Map.of());
    int feedbackPartitions =
        all(KafkaTopic.class).stream()
            .filter(t -> t.getSpec().getTopicName().endsWith(".feedback"))
            .findFirst()
            .orElseThrow()
            .getSpec()
            .getPartitions();
    assertThat(job.getSpec().getJob().getParallelism())
        .as("parallelism beyond the feedback partitions idles")
        .isLessThanOrEqualTo(feedbackPartitions);
    assertThat(job.getSpec().getJob().getUpgradeMode().name()).isEqualTo("LAST_STATE");
  }

  @Test
  void thePrometheusRuleCarriesExactlyTheAlertsOfAlertsYml() throws Exception {
    JsonNode alerts = TypedManifests.YAML.readTree(Path.of("prometheus", "alerts.yml").toFile());
    TypedManifests.Resource rule =
        resources.stream()
            .filter(r -> r.typed() instanceof PrometheusRule)
            .findFirst()
            .orElseThrow();
    assertThat(rule.tree().at("/spec/groups")).isEqualTo(alerts.get("groups"));
  }

  @Test
  void theKustomizationListsEveryManifestAndItsGeneratedFilesExist() throws Exception {
    JsonNode k = TypedManifests.YAML.readTree(Path.of("kustomization.yaml").toFile());
    List<String> listed = new ArrayList<>();
    k.get("resources").forEach(r -> listed.add(r.asText()));
    assertThat(listed)
        .containsExactlyInAnyOrderElementsOf(
            manifestFiles().stream().map(f -> "kubernetes/" + f.getFileName()).toList());
    for (JsonNode generator : k.get("configMapGenerator")) {
      for (JsonNode file : generator.get("files")) {
        String path = file.asText().replaceFirst("^[^=]+=", "");
        assertThat(Path.of(path)).as(generator.get("name").asText()).isRegularFile();
      }
    }
  }
}
