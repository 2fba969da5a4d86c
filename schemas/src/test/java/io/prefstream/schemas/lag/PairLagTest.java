package io.prefstream.schemas.lag;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class PairLagTest {

  @Test
  void countsATenantsPairsAfterEachPartitionsPositionAndAgesTheOldest() {
    PairLag lag = new PairLag();
    lag.add("acme", 0, 10, 1_000);
    lag.add("other", 0, 11, 1_500);
    lag.add("acme", 0, 12, 2_000);
    lag.add("acme", 1, 5, 3_000);
    // Trained through offset 11 of partition 0 (next to read) and 5 of partition 1.
    assertThat(lag.lag("acme", Map.of(0, 11L, 1, 5L), 10_000))
        .isEqualTo(new PairLag.Lag(2, 8.0)); // offsets 12 and 5; the oldest appended at 2 s
    assertThat(lag.lag("acme", Map.of(0, 13L, 1, 6L), 10_000)).isEqualTo(PairLag.Lag.NONE);
    assertThat(lag.lag("other", Map.of(0, 11L), 10_000)).isEqualTo(new PairLag.Lag(1, 8.5));
    assertThat(lag.lag("nobody", Map.of(), 10_000)).isEqualTo(PairLag.Lag.NONE);
    // A partition the positions name not was trained through none of it.
    assertThat(lag.lag("acme", Map.of(0, 13L), 10_000).pairs()).isEqualTo(1);
    lag.trim(0, 12);
    assertThat(lag.lag("acme", Map.of(0, 0L, 1, 6L), 10_000)).isEqualTo(new PairLag.Lag(1, 8.0));
    lag.clear(0);
    assertThat(lag.lag("acme", Map.of(0, 0L, 1, 6L), 10_000)).isEqualTo(PairLag.Lag.NONE);
  }

  @Test
  void pastTheCapTheOldestAreFoldedIntoACountThatStillAges() {
    PairLag lag = new PairLag();
    for (long o = 0; o <= PairLag.CAP; o++) {
      lag.add("acme", 0, o, 1_000 + o);
    }
    PairLag.Lag all = lag.lag("acme", Map.of(0, 0L), 2_000_000);
    assertThat(all.pairs()).isEqualTo(PairLag.CAP + 1L);
    assertThat(all.seconds()).isEqualTo((2_000_000 - 1_000) / 1000.0);
    lag.trim(0, PairLag.CAP);
    assertThat(lag.lag("acme", Map.of(0, 0L), 2_000_000).pairs()).isEqualTo(1);
  }

  @Test
  void theTrackerReadsFromTheLowestServedPositionAndSeeksBackForAnOlderModel() {
    String topic = "p.pairs";
    TopicPartition tp = new TopicPartition(topic, 0);
    MockConsumer<String, Object> consumer = new MockConsumer<>("earliest");
    consumer.updatePartitions(
        topic, List.of(new PartitionInfo(topic, 0, Node.noNode(), new Node[0], new Node[0])));
    consumer.updateBeginningOffsets(Map.of(tp, 0L));
    consumer.updateEndOffsets(Map.of(tp, 6L));
    AtomicLong clock = new AtomicLong(100_000);
    List<PairLagTracker.Model> served = new ArrayList<>();
    PairLagTracker tracker =
        new PairLagTracker(consumer, topic, () -> List.copyOf(served), clock::get);
    tracker.open();
    tracker.round(); // no model served: nothing is read
    assertThat(consumer.paused()).containsExactly(tp);

    PairLagTracker.Model champion = new PairLagTracker.Model("acme", Map.of(0, 3L));
    served.add(champion);
    records(consumer, topic, 0, 6);
    tracker.round();
    assertThat(consumer.position(tp)).isEqualTo(6); // read from 3, the champion's position
    assertThat(tracker.lag(champion)).isEqualTo(new PairLag.Lag(3, 0.0));
    assertThat(tracker.caughtUp()).isTrue();
    clock.addAndGet(4_000);
    assertThat(tracker.lag(champion).seconds()).isEqualTo(4.0);

    // A candidate trained further: counted from its own position, nothing read again.
    PairLagTracker.Model candidate = new PairLagTracker.Model("acme", Map.of(0, 5L));
    served.add(candidate);
    tracker.round();
    assertThat(tracker.lag(candidate).pairs()).isEqualTo(1);
    // Rolled back to an older champion: the tracker reads again from its position.
    PairLagTracker.Model older = new PairLagTracker.Model("acme", Map.of(0, 1L));
    served.add(older);
    records(consumer, topic, 0, 6);
    tracker.round();
    assertThat(tracker.lag(older).pairs()).isEqualTo(5);
    assertThat(tracker.lag(champion).pairs()).isEqualTo(3);
    // Served no more: the pairs below the champion's position are forgotten.
    served.remove(older);
    tracker.round();
    assertThat(tracker.lag(older).pairs()).isEqualTo(3);
    tracker.close();
  }

  private static void records(MockConsumer<String, Object> c, String topic, int from, int to) {
    for (long o = from; o < to; o++) {
      c.addRecord(new ConsumerRecord<>(topic, 0, o, "acme/pair-" + o, null));
    }
  }
}
