package io.prefstream.pairs;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.ImplicitKind;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.Ranking;
import io.prefstream.testing.KafkaFixture;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The pair builder on a MiniCluster against the embedded broker: a scripted sequence of events
 * gives exactly the expected pairs, committed once, the expected dead letters, and the same counts
 * in the job's Flink metrics.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PairBuilderIT {

  private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .setConfiguration(REPORTER.addToConfiguration(new Configuration()))
              .build());

  @RegisterExtension static final KafkaFixture KAFKA = KafkaFixture.suite("pairs");

  @Test
  void scriptedEventsGiveExactlyTheExpectedPairsAndDeadLetters() throws Exception {
    PairTopics topics = PairTopics.create(KAFKA);
    long t = Instant.now().minusSeconds(60).toEpochMilli();
    List<FeedbackEvent> script = new ArrayList<>();

    Feedback a = new Feedback("i-a");
    FeedbackEvent choice;
    script.add(a.exposure("r1", "alpha one", t));
    script.add(choice = a.choice("r2", "r1", t + 5)); // before r2's exposure: it waits
    script.add(a.exposure("r2", "alpha two", t + 1));
    script.add(a.exposure("r3", "alpha three", t + 2));
    script.add(a.ranking(t + 6, List.of("r3", "r1", "r2")));
    script.add(a.tie("r1", "r3", t + 7));
    script.add(choice); // a duplicate

    Feedback b = new Feedback("i-b");
    script.add(b.exposure("r1", "beta one", t));
    script.add(b.exposure("r2", "beta two", t));
    script.add(b.rating("r1", 5, 1, 5, t + 10));
    script.add(b.rating("r2", 2, 1, 5, t + 11));
    script.add(b.thumb("r1", true, t + 12));
    script.add(b.thumb("r2", false, t + 13));
    script.add(b.signal("r2", ImplicitKind.COPY, 3, t + 14)); // overruled by explicit feedback

    Feedback c = new Feedback("i-c");
    script.add(c.exposure("r1", "gamma one", t));
    script.add(c.exposure("r2", "gamma two", t));
    script.add(c.signal("r1", ImplicitKind.COPY, 1, t + 20));
    script.add(c.signal("r1", ImplicitKind.ACCEPT, 1, t + 21));

    Feedback d = new Feedback("i-d");
    script.add(d.labeled("delta good", "delta bad", 0.9, t + 30));

    Feedback e = new Feedback("i-e");
    script.add(e.exposure("r1", "epsilon one", t));
    script.add(e.rating("r9", 4, 1, 5, t + 40)); // r9 is never exposed
    script.add(
        e.event(
            t + 41,
            Ranking.newBuilder().setResponseIds(List.of("r1", "r1")).build())); // breaks a rule

    topics.send(script);
    topics.sendRaw("t1/i-x", "{\"not\": \"avro\"}".getBytes(StandardCharsets.UTF_8));

    PairBuilderConfig config = topics.config(Map.of());
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(
            PairBuilderJob.flinkConfiguration(config));
    JobID job = PairBuilderJob.kafka(config, true).execute(env).getJobID();

    List<PreferencePair> pairs = PairTopics.readCommitted(KAFKA, topics.topics.pairs());
    assertThat(
            pairs.stream()
                .map(p -> p.getSource() + " " + p.getChosen() + ">" + p.getRejected())
                .toList())
        .containsExactlyInAnyOrder(
            "PAIRWISE_CHOICE alpha two>alpha one",
            "RANKING alpha three>alpha one",
            "RANKING alpha three>alpha two",
            "RANKING alpha one>alpha two",
            "RATING beta one>beta two",
            "THUMB beta one>beta two",
            "IMPLICIT gamma one>gamma two",
            "LABELED_PAIR delta good>delta bad");
    assertThat(pairs).allMatch(p -> p.getTenantId().equals(Feedback.TENANT));
    assertThat(pairs).allMatch(p -> p.getPrompt().equals(Feedback.PROMPT));
    // The same user chose r2 over r1, then ranked r1 above r2: the later label is flagged.
    assertThat(pairs)
        .filteredOn(p -> !p.getFlags().isEmpty())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getChosen()).isEqualTo("alpha one");
              assertThat(p.getFlags()).containsExactly("CONTRADICTS_SAME_ANNOTATOR");
            });

    List<DeadLetter> dead = PairTopics.readCommitted(KAFKA, topics.topics.feedbackDlq());
    assertThat(dead).allMatch(l -> l.getSource().equals("pair-builder"));
    assertThat(dead)
        .extracting(DeadLetter::getField)
        .containsExactlyInAnyOrder(null, "ranking.response_ids[1]", "rating.response_id");
    assertThat(dead)
        .filteredOn(l -> l.getField() == null)
        .singleElement()
        .satisfies(l -> assertThat(l.getReason()).contains("the bytes look like JSON"));

    // The same story in the job's Flink metrics.
    assertThat(counter(job, "pairs.ranking")).isEqualTo(3);
    assertThat(counter(job, "pairs.pairwise_choice")).isEqualTo(1);
    assertThat(counter(job, "pairs.implicit")).isEqualTo(1);
    assertThat(counter(job, "duplicateEvents")).isEqualTo(1);
    assertThat(counter(job, "droppedPairs.tie")).isEqualTo(1);
    assertThat(counter(job, "droppedPairs.superseded_by_explicit")).isEqualTo(1);
    assertThat(counter(job, "contradictions")).isEqualTo(1);
    assertThat(counter(job, "deadLetters")).isEqualTo(1);
    assertThat(counter(job, "rejectedRecords")).isEqualTo(2);
    assertThat(counter(job, "lateDroppedEvents")).isZero();
  }

  /** A prefstream counter of the job, summed over subtasks. */
  private static long counter(JobID job, String name) {
    Map<String, Metric> found = REPORTER.findMetrics(job, "prefstream." + name);
    assertThat(found).as("metric prefstream.%s", name).isNotEmpty();
    return found.entrySet().stream()
        .filter(e -> e.getKey().endsWith("prefstream." + name))
        .mapToLong(e -> ((Counter) e.getValue()).getCount())
        .sum();
  }
}
