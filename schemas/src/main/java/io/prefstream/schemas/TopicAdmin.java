package io.prefstream.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creates prefstream topics with their definitions and checks existing ones against them. */
public final class TopicAdmin {

  private final Admin admin;
  private final Duration timeout;

  public TopicAdmin(Admin admin, Duration timeout) {
    this.admin = admin;
    this.timeout = timeout;
  }

  /**
   * Creates the topics that do not exist yet.
   *
   * @return the names of the topics it created
   */
  public List<String> createMissing(Collection<Topic<?>> topics, short replicationFactor)
      throws InterruptedException, ExecutionException, TimeoutException {
    Set<String> existing = admin.listTopics().names().get(millis(), TimeUnit.MILLISECONDS);
    List<NewTopic> toCreate = new ArrayList<>();
    for (Topic<?> topic : topics) {
      if (!existing.contains(topic.name())) {
        toCreate.add(
            new NewTopic(topic.name(), topic.partitions(), replicationFactor)
                .configs(topic.configs()));
      }
    }
    List<String> created = new ArrayList<>();
    for (Map.Entry<String, KafkaFuture<Void>> result :
        admin.createTopics(toCreate).values().entrySet()) {
      try {
        result.getValue().get(millis(), TimeUnit.MILLISECONDS);
        created.add(result.getKey());
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e; // another process created it meanwhile: fine
        }
      }
    }
    return created;
  }

  /**
   * Differences between existing topics and their definitions (missing topic, cleanup policy), as
   * readable lines; empty when every topic is as defined.
   */
  public List<String> check(Collection<Topic<?>> topics)
      throws InterruptedException, ExecutionException, TimeoutException {
    Set<String> existing = admin.listTopics().names().get(millis(), TimeUnit.MILLISECONDS);
    List<String> problems = new ArrayList<>();
    List<ConfigResource> resources = new ArrayList<>();
    for (Topic<?> topic : topics) {
      if (existing.contains(topic.name())) {
        resources.add(new ConfigResource(ConfigResource.Type.TOPIC, topic.name()));
      } else {
        problems.add(topic.name() + ": missing");
      }
    }
    Map<ConfigResource, Config> configs =
        admin.describeConfigs(resources).all().get(millis(), TimeUnit.MILLISECONDS);
    for (Topic<?> topic : topics) {
      Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic.name()));
      if (config == null) {
        continue;
      }
      String expected = topic.configs().getOrDefault("cleanup.policy", "delete");
      String actual = config.get("cleanup.policy").value();
      if (!expected.equals(actual)) {
        problems.add(topic.name() + ": cleanup.policy is " + actual + ", expected " + expected);
      }
    }
    return problems;
  }

  private long millis() {
    return timeout.toMillis();
  }
}
