package io.prefstream.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.local.LocalKafka;
import io.prefstream.schemas.Examples;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.JsonFormException;
import io.prefstream.schemas.Topic;
import io.prefstream.schemas.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The demo, at this stage of the system: starts the embedded broker, sends one feedback event of
 * each payload type and one malformed event through the real serdes, reads them back with a second
 * client, prints them, and ends with one JSON line of figures.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Run the system on this machine with built-in example feedback, then exit.")
public final class DemoCommand implements Runnable {

  private static final String MALFORMED =
      "{\"event_id\": \"demo-bad-1\", \"tenant_id\": \"demo\", \"occurred_at\": \"yesterday\","
          + " \"interaction_id\": \"i-bad\", \"thumb\": {\"response_id\": \"r-1\"}}";

  @Mixin LocalStackOptions local;
  @Spec CommandSpec spec;

  @Option(
      names = "--summary",
      paramLabel = "FILE",
      description = "Also write the summary JSON here.")
  Path summaryFile;

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    Instant started = Instant.now();
    try (LocalKafka kafka = local.startKafka()) {
      out.println("prefstream demo: Kafka broker (KRaft) at " + kafka.bootstrapServers());
      Topics topics = kafka.topics();
      KafkaClients clients = new KafkaClients(kafka.bootstrapServers(), Duration.ofSeconds(30));

      List<FeedbackEvent> sent = Examples.oneOfEachPayload("demo", "i-demo-1", Instant.now());
      List<DeadLetter> rejected = List.of(rejectMalformed(out));
      try (KafkaProducer<byte[], byte[]> producer = clients.producer()) {
        for (FeedbackEvent event : sent) {
          send(producer, topics.feedback(), event);
        }
        for (DeadLetter letter : rejected) {
          send(producer, topics.feedbackDlq(), letter);
        }
      }
      out.printf(
          "sent %d events (one per payload type) and %d dead letter(s)%n",
          sent.size(), rejected.size());

      List<FeedbackEvent> received = readBack(clients, topics.feedback(), sent.size());
      List<DeadLetter> deadLetters = readBack(clients, topics.feedbackDlq(), rejected.size());
      JsonForm<FeedbackEvent> form = topics.feedback().jsonForm();
      out.println("read back from " + topics.feedback().name() + " by a second client:");
      received.forEach(e -> out.println("  " + form.print(e)));
      out.println("read back from " + topics.feedbackDlq().name() + ":");
      deadLetters.forEach(d -> out.println("  " + topics.feedbackDlq().jsonForm().print(d)));

      long identical = received.stream().filter(sent::contains).count();
      ObjectNode summary =
          summary(
              kafka,
              sent.size(),
              rejected.size(),
              received.size(),
              identical,
              deadLetters.size(),
              started);
      out.println(summary);
      out.flush();
      writeSummary(summary);
      if (identical != sent.size() || deadLetters.size() != rejected.size()) {
        throw new UserError(
            "demo: " + identical + " of " + sent.size() + " events came back unchanged; see above");
      }
    }
  }

  private DeadLetter rejectMalformed(PrintWriter out) {
    try {
      JsonForm.of(FeedbackEvent.class).parse(MALFORMED);
      throw new IllegalStateException("The demo's malformed event was accepted: " + MALFORMED);
    } catch (JsonFormException e) {
      out.println("rejected malformed event: " + e.getMessage());
      return DeadLetter.newBuilder()
          .setRaw(ByteBuffer.wrap(MALFORMED.getBytes(StandardCharsets.UTF_8)))
          .setReason(e.first().rule().code() + ": " + e.first().reason())
          .setField(e.first().field())
          .setSource("demo")
          .setSourceId("demo-bad-1")
          .setTenantId("demo")
          .setTime(Instant.now())
          .build();
    }
  }

  private static <V extends SpecificRecord> void send(
      KafkaProducer<byte[], byte[]> producer, Topic<V> topic, V value) {
    byte[] key = topic.key(value).getBytes(StandardCharsets.UTF_8);
    try {
      producer
          .send(
              new ProducerRecord<>(
                  topic.name(), key, topic.valueSerde().serialize(topic.name(), value)))
          .get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new UserError("demo: could not write to " + topic.name() + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("Interrupted", e);
    }
  }

  private static <V extends SpecificRecord> List<V> readBack(
      KafkaClients clients, Topic<V> topic, int expected) {
    List<V> values = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = clients.consumer()) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (int p = 0; p < topic.partitions(); p++) {
        partitions.add(new TopicPartition(topic.name(), p));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (values.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          values.add(topic.valueSerde().deserialize(record.topic(), record.value()));
        }
      }
    }
    return values;
  }

  private static ObjectNode summary(
      LocalKafka kafka,
      int sent,
      int rejected,
      int received,
      long identical,
      int deadLetters,
      Instant started) {
    ObjectNode summary = JsonForm.mapper().createObjectNode();
    summary.put("demo", "foundation");
    ObjectNode e = summary.putObject("events");
    e.put("accepted", sent).put("rejected", rejected).put("duplicate", 0);
    e.put("read_back", received).put("read_back_identical", identical);
    summary.put("dead_letters", deadLetters);
    summary.put("topics", kafka.topics().all().size());
    summary.putObject("lost").put("events", sent - identical);
    summary.put("seconds", Duration.between(started, Instant.now()).toMillis() / 1000.0);
    return summary;
  }

  private void writeSummary(ObjectNode summary) {
    if (summaryFile == null) {
      return;
    }
    try {
      Files.writeString(summaryFile, summary.toPrettyString() + "\n");
    } catch (IOException e) {
      throw new UserError("Cannot write the summary to " + summaryFile + ": " + e.getMessage(), e);
    }
  }
}
