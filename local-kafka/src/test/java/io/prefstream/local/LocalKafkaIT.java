package io.prefstream.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.schemas.Topic;
import io.prefstream.schemas.TopicAdmin;
import io.prefstream.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(180)
class LocalKafkaIT {

  @TempDir Path tmp;

  @Test
  void createsEveryTopicWithItsPartitionsAndCleanupPolicy() throws Exception {
    Topics topics = Topics.withPrefix("it-topics");
    try (LocalKafka kafka = LocalKafka.builder().optPort(0).optTopics(topics).build().start();
        Admin admin = admin(kafka)) {
      Map<String, TopicDescription> described =
          admin
              .describeTopics(topics.all().stream().map(Topic::name).toList())
              .allTopicNames()
              .get(30, TimeUnit.SECONDS);
      for (Topic<?> topic : topics.all()) {
        assertThat(described.get(topic.name()).partitions()).hasSize(topic.partitions());
      }
      assertThat(new TopicAdmin(admin, Duration.ofSeconds(30)).check(topics.all())).isEmpty();
    }
  }

  @Test
  void keepsDataAcrossARestartOnTheSameDirectory() throws Exception {
    Path dir = tmp.resolve("kafka");
    String topic = Topics.defaults().drift().name();
    try (LocalKafka kafka = LocalKafka.builder().optPort(0).optDataDir(dir).build().start();
        KafkaProducer<String, String> producer = producer(kafka)) {
      producer.send(new ProducerRecord<>(topic, "k", "kept")).get(30, TimeUnit.SECONDS);
    }
    try (LocalKafka kafka = LocalKafka.builder().optPort(0).optDataDir(dir).build().start();
        KafkaConsumer<String, String> consumer = consumer(kafka)) {
      TopicPartition partition = new TopicPartition(topic, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      ConsumerRecords<String, String> records = ConsumerRecords.empty();
      for (int i = 0; i < 30 && records.isEmpty(); i++) {
        records = consumer.poll(Duration.ofSeconds(1));
      }
      assertThat(records.records(partition)).extracting(r -> r.value()).containsExactly("kept");
    }
    assertThat(Files.exists(dir)).as("a configured data directory is kept").isTrue();
  }

  @Test
  void deletesATemporaryDataDirectoryOnClose() {
    LocalKafka kafka = LocalKafka.builder().optPort(0).build().start();
    Path dir = kafka.dataDir();
    kafka.close();
    assertThat(Files.exists(dir)).isFalse();
    assertThat(kafka.state()).isEqualTo(LocalKafka.State.STOPPED);
  }

  @Test
  void refusesAPortInUseWithAClearMessage() {
    try (LocalKafka first = LocalKafka.builder().optPort(0).build().start()) {
      LocalKafka second = LocalKafka.builder().optPort(first.port()).build();
      assertThatThrownBy(second::start)
          .isInstanceOf(LocalKafkaException.class)
          .hasMessageContaining("Port " + first.port() + " is already in use");
      assertThatThrownBy(second::bootstrapServers)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("Current state is: STOPPED");
    }
  }

  private static Admin admin(LocalKafka kafka) {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    return Admin.create(p);
  }

  private static KafkaProducer<String, String> producer(LocalKafka kafka) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  private static KafkaConsumer<String, String> consumer(LocalKafka kafka) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
  }
}
