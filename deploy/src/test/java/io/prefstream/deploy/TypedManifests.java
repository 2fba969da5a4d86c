package io.prefstream.deploy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;

/**
 * Reads Kubernetes manifests into the typed models of the APIs they target: fabric8's Kubernetes
 * model, Strimzi's API, the Flink Kubernetes Operator's API and fabric8's Prometheus Operator
 * model. Strictly: a field the model does not have fails, whether the model rejects unknown fields
 * itself or keeps them aside (fabric8 and Strimzi keep them in {@code additionalProperties}, which
 * this reader walks the whole object for).
 */
final class TypedManifests {

  /** Every apiVersion/kind the manifests may use, with the class it is read into. */
  static final Map<String, Class<? extends HasMetadata>> KINDS =
      Map.ofEntries(
          Map.entry("v1/ConfigMap", ConfigMap.class),
          Map.entry("v1/Secret", Secret.class),
          Map.entry("v1/Service", Service.class),
          Map.entry("v1/PersistentVolumeClaim", PersistentVolumeClaim.class),
          Map.entry("apps/v1/Deployment", Deployment.class),
          Map.entry("apps/v1/StatefulSet", StatefulSet.class),
          Map.entry("autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class),
          Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
          Map.entry("kafka.strimzi.io/v1/Kafka", Kafka.class),
          Map.entry("kafka.strimzi.io/v1/KafkaNodePool", KafkaNodePool.class),
          Map.entry("kafka.strimzi.io/v1/KafkaTopic", KafkaTopic.class),
          Map.entry("flink.apache.org/v1beta1/FlinkDeployment", FlinkDeployment.class),
          Map.entry("monitoring.coreos.com/v1/ServiceMonitor", ServiceMonitor.class),
          Map.entry("monitoring.coreos.com/v1/PodMonitor", PodMonitor.class),
          Map.entry("monitoring.coreos.com/v1/PrometheusRule", PrometheusRule.class));

  static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory())
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  /** One document of a manifest file: as written, and as its API's model. */
  record Resource(String source, JsonNode tree, HasMetadata typed) {
    String kind() {
      return typed.getKind();
    }

    String name() {
      return typed.getMetadata().getName();
    }
  }

  /** A manifest the models do not accept, with where and why. */
  static final class Invalid extends Exception {
    Invalid(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final String flinkVersion;

  /**
   * @param flinkVersion the Flink release the pair builder is built on (e.g. 2.2.1): a
   *     FlinkDeployment's flinkVersion must name its minor line (v2_2). The newest operator API on
   *     Maven Central predates Flink 2 and has no such enum constant, so the field is checked here
   *     and every other field by the model.
   */
  TypedManifests(String flinkVersion) {
    this.flinkVersion = flinkVersion;
  }

  /** Every document of a file, in order. */
  List<Resource> read(Path file) throws IOException, Invalid {
    List<Resource> out = new ArrayList<>();
    try (MappingIterator<JsonNode> docs =
        YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
      int index = 0;
      while (docs.hasNextValue()) {
        JsonNode doc = docs.nextValue();
        index++;
        if (doc == null || doc.isNull() || doc.isMissingNode()) {
          continue;
        }
        out.add(read(file.getFileName() + " document " + index, doc));
      }
    }
    return out;
  }

  /** One document, {@code source} naming it in errors. */
  Resource read(String source, JsonNode doc) throws Invalid {
    String apiVersion = doc.path("apiVersion").asText();
    String kind = doc.path("kind").asText();
    String where = source + " (" + kind + " " + doc.at("/metadata/name").asText() + ")";
    Class<? extends HasMetadata> type = KINDS.get(apiVersion + "/" + kind);
    if (type == null) {
      throw new Invalid(
          where + ": no model for apiVersion '" + apiVersion + "' kind '" + kind + "'", null);
    }
    JsonNode input = doc.deepCopy();
    if (type == FlinkDeployment.class) {
      checkFlinkVersion(where, (ObjectNode) input.path("spec"));
    }
    HasMetadata typed;
    try {
      typed = YAML.treeToValue(input, type);
    } catch (JsonProcessingException e) {
      throw new Invalid(where + ": " + e.getOriginalMessage(), e);
    }
    List<String> unknown = new ArrayList<>();
    unknownFields(typed, kind, unknown, Collections.newSetFromMap(new IdentityHashMap<>()));
    if (type == FlinkDeployment.class) {
      // The Flink operator's model ignores unknown fields: written back, the document lacks them.
      dropped(input, YAML.valueToTree(typed), kind, unknown);
    }
    if (!unknown.isEmpty()) {
      throw new Invalid(where + ": unknown field(s) " + unknown, null);
    }
    if (typed.getMetadata() == null || typed.getMetadata().getName() == null) {
      throw new Invalid(where + ": metadata.name is missing", null);
    }
    return new Resource(source, doc, typed);
  }

  private void checkFlinkVersion(String where, ObjectNode spec) throws Invalid {
    String[] parts = flinkVersion.split("\\.");
    String expected = "v" + parts[0] + "_" + parts[1];
    String given = spec.path("flinkVersion").asText();
    if (!given.equals(expected)) {
      throw new Invalid(
          where
              + ": spec.flinkVersion is '"
              + given
              + "', but the job is built on Flink "
              + flinkVersion
              + " ("
              + expected
              + ")",
          null);
    }
    spec.remove("flinkVersion");
  }

  /**
   * Walks a model object for fields its class did not know: fabric8 and Strimzi models keep them in
   * an {@code additionalProperties} map instead of failing.
   */
  static void unknownFields(Object o, String path, List<String> out, Set<Object> seen) {
    if (o == null || leaf(o.getClass()) || !seen.add(o)) {
      return;
    }
    if (o instanceof Map<?, ?> map) {
      map.forEach((k, v) -> unknownFields(v, path + "." + k, out, seen));
      return;
    }
    if (o instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        unknownFields(item, path + "[" + i++ + "]", out, seen);
      }
      return;
    }
    if (o instanceof Object[] items) {
      for (int i = 0; i < items.length; i++) {
        unknownFields(items[i], path + "[" + i + "]", out, seen);
      }
      return;
    }
    for (Class<?> c = o.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
          continue;
        }
        Object value;
        try {
          f.setAccessible(true);
          value = f.get(o);
        } catch (ReflectiveOperationException | RuntimeException e) {
          continue; // not a model field we can read
        }
        if (f.getName().equals("additionalProperties")) {
          if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
            for (Object key : extra.keySet()) {
              out.add(path + "." + key);
            }
          }
          continue;
        }
        unknownFields(value, path + "." + f.getName(), out, seen);
      }
    }
  }

  /** Fields of {@code given} (with a value) that {@code back}, the model written out, lacks. */
  static void dropped(JsonNode given, JsonNode back, String path, List<String> out) {
    if (given.isObject()) {
      given
          .fields()
          .forEachRemaining(
              e -> {
                JsonNode value = e.getValue();
                if (value.isNull() || (value.isContainerNode() && value.isEmpty())) {
                  return; // models leave out empty values when written
                }
                if ((value.isTextual() && value.asText().isEmpty())
                    || (value.isBoolean() && !value.asBoolean())
                    || (value.isNumber() && value.asDouble() == 0)) {
                  return; // nor defaults
                }
                JsonNode there = back == null ? null : back.get(e.getKey());
                if (there == null) {
                  out.add(path + "." + e.getKey());
                } else {
                  dropped(value, there, path + "." + e.getKey(), out);
                }
              });
    } else if (given.isArray() && back != null && back.isArray()) {
      for (int i = 0; i < given.size() && i < back.size(); i++) {
        dropped(given.get(i), back.get(i), path + "[" + i + "]", out);
      }
    }
  }

  private static boolean leaf(Class<?> c) {
    return c.isPrimitive()
        || c.isEnum()
        || c == String.class
        || Number.class.isAssignableFrom(c)
        || c == Boolean.class
        || c == Character.class
        || (c.getName().startsWith("java.")
            && !Map.class.isAssignableFrom(c)
            && !Collection.class.isAssignableFrom(c))
        || c.getName().startsWith("com.fasterxml.");
  }
}
