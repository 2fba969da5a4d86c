package io.prefstream.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The reader and the service checks refuse what a cluster or a service would refuse. */
class TypedManifestsTest {

  static final TypedManifests READER = new TypedManifests("2.2.1");

  static JsonNode yaml(String text) throws Exception {
    return TypedManifests.YAML.readTree(text);
  }

  static final String DEPLOYMENT =
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: d
      spec:
        replicas: 1
        selector:
          matchLabels: {app: d}
        template:
          metadata:
            labels: {app: d}
          spec:
            containers:
              - name: c
                image: prefstream/prefstream:0.1.0
                imagePullPolicy: IfNotPresent
      """;

  static final String TOPIC =
      """
      apiVersion: kafka.strimzi.io/v1
      kind: KafkaTopic
      metadata:
        name: t
      spec:
        topicName: prefstream.pairs
        partitions: 3
      """;

  static final String KAFKA =
      """
      apiVersion: kafka.strimzi.io/v1
      kind: Kafka
      metadata:
        name: k
      spec:
        kafka:
          listeners:
            - {name: plain, port: 9092, type: internal, tls: false}
      """;

  static final String FLINK =
      """
      apiVersion: flink.apache.org/v1beta1
      kind: FlinkDeployment
      metadata:
        name: f
      spec:
        flinkVersion: v2_2
        job:
          jarURI: local:///job.jar
          parallelism: 2
      """;

  static final String SERVICE_MONITOR =
      """
      apiVersion: monitoring.coreos.com/v1
      kind: ServiceMonitor
      metadata:
        name: m
      spec:
        endpoints:
          - port: http
            path: /metrics
      """;

  static final String HPA =
      """
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: h
      spec:
        minReplicas: 1
        maxReplicas: 3
      """;

  @Test
  void wellFormedDocumentsOfEachApiRead() throws Exception {
    for (String doc : List.of(DEPLOYMENT, TOPIC, KAFKA, FLINK, SERVICE_MONITOR, HPA)) {
      assertThat(READER.read("test", yaml(doc)).name()).hasSize(1);
    }
  }

  @ParameterizedTest(name = "{0}: {1} -> {2}")
  @CsvSource({
    "DEPLOYMENT, 'replicas: 1', 'replicaz: 1'",
    "DEPLOYMENT, 'imagePullPolicy: IfNotPresent', 'imagePulPolicy: IfNotPresent'",
    "TOPIC, 'partitions: 3', 'partitons: 3'",
    "KAFKA, 'tls: false', 'tsl: false'",
    "FLINK, 'parallelism: 2', 'paralelism: 2'",
    "FLINK, 'jarURI: local:///job.jar', 'jarUri: local:///job.jar'",
    "SERVICE_MONITOR, 'path: /metrics', 'pth: /metrics'",
    "HPA, 'minReplicas: 1', 'minReplica: 1'",
  })
  void aMisspelledFieldFailsNamingIt(String document, String field, String misspelled)
      throws Exception {
    String doc =
        switch (document) {
          case "DEPLOYMENT" -> DEPLOYMENT;
          case "TOPIC" -> TOPIC;
          case "KAFKA" -> KAFKA;
          case "FLINK" -> FLINK;
          case "SERVICE_MONITOR" -> SERVICE_MONITOR;
          default -> HPA;
        };
    assertThat(doc).contains(field);
    String wrong = misspelled.substring(0, misspelled.indexOf(':'));
    assertThatThrownBy(() -> READER.read("test", yaml(doc.replace(field, misspelled))))
        .isInstanceOf(TypedManifests.Invalid.class)
        .hasMessageContaining(wrong);
  }

  @Test
  void aWrongTypeAnUnknownKindAndAnotherFlinkLineFail() {
    assertThatThrownBy(
            () -> READER.read("test", yaml(DEPLOYMENT.replace("replicas: 1", "replicas: one"))))
        .isInstanceOf(TypedManifests.Invalid.class)
        .hasMessageContaining("one");
    assertThatThrownBy(
            () ->
                READER.read(
                    "test", yaml(DEPLOYMENT.replace("kind: Deployment", "kind: Deploymnet"))))
        .hasMessageContaining("no model for apiVersion 'apps/v1' kind 'Deploymnet'");
    assertThatThrownBy(() -> READER.read("test", yaml(FLINK.replace("v2_2", "v1_20"))))
        .hasMessageContaining("spec.flinkVersion is 'v1_20', but the job is built on Flink 2.2.1");
  }

  @Test
  void theServiceChecksRefuseWhatTheLauncherOrTheServiceWould() {
    assertThat(ServiceSettings.problems("ok", List.of("run", "scorer", "--port", "8081"), Map.of()))
        .isEmpty();
    assertThat(ServiceSettings.problems("x", List.of("run", "scorer", "--prot", "8081"), Map.of()))
        .singleElement()
        .asString()
        .contains("the launcher refuses", "--prot");
    assertThat(ServiceSettings.problems("x", List.of("run", "scorers"), Map.of()))
        .singleElement()
        .asString()
        .contains("names no service");
    assertThat(
            ServiceSettings.problems(
                "x",
                List.of("run", "trainer"),
                Map.of("PREFSTREAM_TRAINER_CHECKPOINT_INTERVL", "30s")))
        .singleElement()
        .asString()
        .contains("PREFSTREAM_TRAINER_CHECKPOINT_INTERVL is read by no key of the trainer");
    // A scorer key on the trainer is read by nobody there.
    assertThat(
            ServiceSettings.problems(
                "x", List.of("run", "trainer"), Map.of("PREFSTREAM_ROLLOUT_CONTROLLER", "1")))
        .hasSize(1);
    assertThat(
            ServiceSettings.problems(
                "x",
                List.of("run", "trainer"),
                Map.of("PREFSTREAM_TRAINER_CHECKPOINT_INTERVAL", "soon")))
        .singleElement()
        .asString()
        .contains("refuses its settings", "trainer.checkpoint-interval");
    assertThat(
            ServiceSettings.problems(
                "x", List.of("run", "trainer"), Map.of("PREFSTREAM_MODEL_DEVICE", "tpu")))
        .singleElement()
        .asString()
        .contains("model.device");
  }
}
