package io.prefstream.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class TopicFollowerTest {

  private static final TopicPartition P0 = new TopicPartition("t", 0);
  private static final TopicPartition P1 = new TopicPartition("t", 1);

  private static MockConsumer<String, String> consumer() {
    MockConsumer<String, String> c = new MockConsumer<>("earliest");
    Node node = new Node(0, "localhost", 9092);
    c.updatePartitions(
        "t",
        List.of(
            new PartitionInfo("t", 0, node, new Node[0], new Node[0]),
            new PartitionInfo("t", 1, node, new Node[0], new Node[0])));
    c.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L));
    c.updateEndOffsets(Map.of(P0, 2L, P1, 1L));
    return c;
  }

  private static ConsumerRecord<String, String> record(TopicPartition p, long offset) {
    return new ConsumerRecord<>(
        p.topic(), p.partition(), offset, "k", "v" + p.partition() + offset);
  }

  @Test
  void catchesUpOnceEveryPartitionIsReadToItsEndAtStartThenFollows() throws Exception {
    MockConsumer<String, String> consumer = consumer();
    List<String> applied = new CopyOnWriteArrayList<>();
    List<Integer> caughtUpAfter = new CopyOnWriteArrayList<>();
    TopicFollower<String, String> follower =
        new TopicFollower<String, String>(
            consumer, List.of("t"), TopicFollower.Start.beginning(), r -> applied.add(r.value()));
    follower.onCaughtUp(() -> caughtUpAfter.add(applied.size()));
    consumer.schedulePollTask(
        () -> {
          consumer.addRecord(record(P0, 0));
          consumer.addRecord(record(P1, 0));
        });
    consumer.schedulePollTask(() -> consumer.addRecord(record(P0, 1)));
    consumer.schedulePollTask(() -> consumer.addRecord(record(P0, 2))); // after the start's end
    Thread thread = new Thread(follower);
    thread.start();

    assertThat(follower.awaitCaughtUp(Duration.ofSeconds(10))).isTrue();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (applied.size() < 4 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    follower.stop();
    thread.join(10_000);

    assertThat(caughtUpAfter).containsExactly(3);
    assertThat(applied).hasSize(4);
    assertThat(applied.subList(0, 2))
        .containsExactlyInAnyOrder("v00", "v10"); // partitions: any order
    assertThat(applied.subList(2, 4)).containsExactly("v01", "v02");
    assertThat(follower.recordsRead()).isEqualTo(4);
    assertThat(follower.problem()).isNull(); // a stop asked for is no problem
    assertThat(consumer.closed()).isTrue();
  }

  @Test
  void aFailureStopsFollowingAndSaysWhy() throws Exception {
    MockConsumer<String, String> consumer = consumer();
    TopicFollower<String, String> follower =
        new TopicFollower<String, String>(
            consumer,
            List.of("t"),
            TopicFollower.Start.beginning(),
            r -> {
              throw new IllegalStateException("cannot apply " + r.value());
            });
    consumer.schedulePollTask(() -> consumer.addRecord(record(P0, 0)));

    follower.run();

    assertThat(follower.problem()).isEqualTo("java.lang.IllegalStateException: cannot apply v00");
    assertThat(follower.caughtUp()).isFalse();
    assertThat(consumer.closed()).isTrue();
  }

  @Test
  void aTopicWithoutPartitionsIsAProblemNamingIt() {
    MockConsumer<String, String> consumer = consumer();
    TopicFollower<String, String> follower =
        new TopicFollower<String, String>(
            consumer, List.of("missing"), TopicFollower.Start.beginning(), r -> {});

    follower.run();

    assertThat(follower.problem()).contains("topic missing has no partitions");
  }
}
