package io.prefstream.scorer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.prefstream.avro.Arm;
import io.prefstream.avro.ScoreRecord;
import io.prefstream.schemas.Topic;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes a sample of served scores to {@code prefstream.scores} for drift monitoring, without
 * waiting: a record that cannot be written is counted ({@code score_records_failed}), never retried
 * by the request.
 */
final class ScoreSampler {

  private final Producer<String, byte[]> producer;
  private final Topic<ScoreRecord> topic;
  private final double share;
  private final Counter sent;
  private final Counter failed;

  ScoreSampler(
      Producer<String, byte[]> producer, Topic<ScoreRecord> topic, double share, MeterRegistry m) {
    this.producer = producer;
    this.topic = topic;
    this.share = share;
    this.sent = m.counter("prefstream.scorer.score.records.sent");
    this.failed = m.counter("prefstream.scorer.score.records.failed");
  }

  void sample(
      ServedModel model,
      Arm arm,
      String prompt,
      List<String> responses,
      float[] raw,
      double[] normalised,
      String requestId) {
    if (share <= 0) {
      return;
    }
    Instant now = Instant.now();
    for (int i = 0; i < responses.size(); i++) {
      if (share < 1 && ThreadLocalRandom.current().nextDouble() >= share) {
        continue;
      }
      String response = responses.get(i);
      ScoreRecord record =
          ScoreRecord.newBuilder()
              .setTenantId(model.checkpoint().getTenantId())
              .setModel(model.checkpoint().getModel())
              .setVersion(model.version())
              .setArm(arm)
              .setScore(Double.isFinite(normalised[i]) ? normalised[i] : 0)
              .setRawScore(Float.isFinite(raw[i]) ? raw[i] : 0)
              .setPromptChars(prompt.length())
              .setResponseChars(response.length())
              .setResponseTokens(tokens(response))
              .setScript(script(response))
              .setRequestId(requestId)
              .setAt(now)
              .build();
      try {
        producer.send(
            new ProducerRecord<>(
                topic.name(),
                topic.key(record),
                topic.valueSerde().serialize(topic.name(), record)),
            (metadata, error) -> (error == null ? sent : failed).increment());
      } catch (RuntimeException e) {
        failed.increment();
      }
    }
  }

  /** Words (letter or digit runs): the same count the length-bias monitors use. */
  static int tokens(String text) {
    int count = 0;
    boolean in = false;
    for (int i = 0; i < text.length(); i++) {
      boolean word = Character.isLetterOrDigit(text.charAt(i));
      if (word && !in) {
        count++;
      }
      in = word;
    }
    return count;
  }

  /** The most frequent Unicode script among the text's letters, or null without letters. */
  static String script(String text) {
    java.util.EnumMap<Character.UnicodeScript, Integer> counts =
        new java.util.EnumMap<>(Character.UnicodeScript.class);
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (Character.isLetter(cp)) {
        counts.merge(Character.UnicodeScript.of(cp), 1, Integer::sum);
      }
    }
    return counts.entrySet().stream()
        .max(java.util.Map.Entry.comparingByValue())
        .map(e -> e.getKey().name())
        .orElse(null);
  }
}
