package io.prefstream.monitor;

import io.prefstream.avro.Annotator;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.LabeledPair;
import io.prefstream.avro.PairwiseChoice;
import io.prefstream.avro.Ranking;
import io.prefstream.avro.Rating;
import io.prefstream.avro.Thumb;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * The data-quality checks of the feedback stream: late events (per source partition, as the pair
 * builder's watermark sees them), duplicates that reached the stream (an event id seen before, or
 * the same explicit label by the same person under a new id) and annotator disagreement (labels of
 * the same item by different annotators that contradict each other).
 */
final class DataQuality {

  /** Store of each partition's newest event time per tenant. */
  static final String EVENT_TIME = "event-time-high";

  /** Store of the event ids and label fingerprints seen within the dedup window. */
  static final String SEEN = "seen";

  /** Store of each labeled item's labels by annotator within the dedup window. */
  static final String LABELS = "annotator-labels";

  /** At most this many annotators' labels are kept per item. */
  static final int MAX_ANNOTATORS = 16;

  private DataQuality() {}

  /**
   * Marks events behind the newest event time of their tenant in this partition by more than {@code
   * lateAfter}. Runs on the feedback topic's own partitions, whose order is ingest's.
   */
  static final class Lateness implements FixedKeyProcessor<String, Signal, Signal> {
    private final long lateAfter;
    private FixedKeyProcessorContext<String, Signal> context;
    private KeyValueStore<String, Long> newest;

    Lateness(Duration lateAfter) {
      this.lateAfter = lateAfter.toMillis();
    }

    @Override
    public void init(FixedKeyProcessorContext<String, Signal> context) {
      this.context = context;
      this.newest = context.getStateStore(EVENT_TIME);
    }

    @Override
    public void process(FixedKeyRecord<String, Signal> record) {
      Signal s = record.value();
      long time = s.event().getOccurredAt().toEpochMilli();
      Long high = newest.get(s.tenant());
      if (high == null || time > high) {
        newest.put(s.tenant(), time);
      } else if (time < high - lateAfter) {
        s = s.with(Signal.LATE);
      }
      context.forward(record.withValue(s));
    }
  }

  /**
   * Per tenant (one task sees all of a tenant's feedback): marks duplicates and counts the
   * agreements and disagreements of each annotator's label with the labels other annotators gave
   * the same item.
   */
  static final class Checks implements FixedKeyProcessor<String, Signal, Signal> {
    private final long window;
    private FixedKeyProcessorContext<String, Signal> context;
    private WindowStore<String, Long> seen;
    private WindowStore<String, byte[]> labels;
    private final MessageDigest sha;

    Checks(Duration dedupWindow) {
      this.window = dedupWindow.toMillis();
      try {
        this.sha = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void init(FixedKeyProcessorContext<String, Signal> context) {
      this.context = context;
      this.seen = context.getStateStore(SEEN);
      this.labels = context.getStateStore(LABELS);
    }

    @Override
    public void process(FixedKeyRecord<String, Signal> record) {
      Signal s = record.value();
      FeedbackEvent e = s.event();
      if (e == null) {
        context.forward(record);
        return;
      }
      long time = e.getOccurredAt().toEpochMilli();
      if (seenBefore(e.getTenantId() + "/id/" + e.getEventId(), time)) {
        context.forward(record.withValue(s.with(Signal.DUPLICATE_ID)));
        return;
      }
      String content = fingerprint(e);
      if (content != null && seenBefore(e.getTenantId() + "/label/" + content, time)) {
        context.forward(record.withValue(s.with(Signal.DUPLICATE_CONTENT)));
        return;
      }
      Label label = label(e);
      if (label != null) {
        int[] counts = compare(e.getTenantId() + "/item/" + hash(label.item()), label, time);
        s = s.withAgreement(counts[0], counts[1]);
      }
      context.forward(record.withValue(s));
    }

    /** True when {@code key} was seen within the window; else remembers it. */
    private boolean seenBefore(String key, long time) {
      try (WindowStoreIterator<Long> it = seen.fetch(key, time - window, time + window)) {
        if (it.hasNext()) {
          return true;
        }
      }
      seen.put(key, time, time);
      return false;
    }

    /**
     * The agreements and disagreements of {@code label} with the other annotators' labels of its
     * item; then keeps it (a second label by the same annotator replaces the first).
     */
    private int[] compare(String key, Label label, long time) {
      long at = time;
      Map<String, String> byAnnotator = new LinkedHashMap<>();
      try (WindowStoreIterator<byte[]> it = labels.fetch(key, time - window, time + window)) {
        while (it.hasNext()) {
          KeyValue<Long, byte[]> kv = it.next();
          at = kv.key;
          byAnnotator = decode(kv.value);
        }
      }
      int[] counts = new int[2];
      if (byAnnotator.containsKey(label.annotator())) {
        // A second label by the same annotator replaces the first; its pairs were counted then.
        byAnnotator.put(label.annotator(), label.value());
        labels.put(key, encode(byAnnotator), at);
        return counts;
      }
      for (Map.Entry<String, String> other : byAnnotator.entrySet()) {
        int[] c =
            label.ranking() ? concordance(other.getValue(), label.value()) : same(other, label);
        counts[0] += c[0];
        counts[1] += c[1];
      }
      if (byAnnotator.size() < MAX_ANNOTATORS) {
        byAnnotator.put(label.annotator(), label.value());
        labels.put(key, encode(byAnnotator), at);
      }
      return counts;
    }

    private static int[] same(Map.Entry<String, String> other, Label label) {
      return other.getValue().equals(label.value()) ? new int[] {1, 0} : new int[] {0, 1};
    }

    /** The label's item hashed: the parts joined by NUL, SHA-256, first 16 bytes in hex. */
    private String hash(List<String> parts) {
      sha.reset();
      for (String p : parts) {
        sha.update(p.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
      }
      return HexFormat.of().formatHex(sha.digest(), 0, 16);
    }

    /**
     * What identifies an explicit label for duplicate checks: who gave it (annotator, else user)
     * and everything it says. Null for exposures and implicit signals (repeats are normal there)
     * and for anonymous labels other than labeled pairs (two people may say the same thing).
     */
    private String fingerprint(FeedbackEvent e) {
      Object p = e.getPayload();
      String who = who(e);
      List<String> parts = new ArrayList<>();
      if (p instanceof LabeledPair x) {
        parts.addAll(List.of("labeled_pair", who == null ? "" : who, x.getPrompt(), x.getChosen()));
        parts.addAll(List.of(x.getRejected(), x.getCriterion()));
      } else if (who == null) {
        return null;
      } else if (p instanceof Rating x) {
        parts.addAll(
            List.of(
                "rating",
                who,
                e.getInteractionId(),
                x.getResponseId(),
                x.getCriterion(),
                Double.toString(x.getValue())));
      } else if (p instanceof Thumb x) {
        parts.addAll(
            List.of(
                "thumb",
                who,
                e.getInteractionId(),
                x.getResponseId(),
                Boolean.toString(x.getUp())));
      } else if (p instanceof PairwiseChoice x) {
        parts.addAll(
            List.of(
                "choice",
                who,
                e.getInteractionId(),
                x.getChosenResponseId(),
                x.getRejectedResponseId(),
                Boolean.toString(x.getTie()),
                x.getCriterion()));
      } else if (p instanceof Ranking x) {
        parts.addAll(List.of("ranking", who, e.getInteractionId(), x.getCriterion()));
        parts.addAll(x.getResponseIds());
      } else {
        return null;
      }
      return hash(parts);
    }

    private static String who(FeedbackEvent e) {
      Annotator a = annotator(e.getPayload());
      return a != null ? "a:" + a.getId() : e.getUserId() != null ? "u:" + e.getUserId() : null;
    }
  }

  private static Annotator annotator(Object p) {
    if (p instanceof LabeledPair x) {
      return x.getAnnotator();
    } else if (p instanceof PairwiseChoice x) {
      return x.getAnnotator();
    } else if (p instanceof Ranking x) {
      return x.getAnnotator();
    } else if (p instanceof Thumb x) {
      return x.getAnnotator();
    }
    return null;
  }

  /**
   * One annotator's label of one item, for agreement: a labeled pair (item: prompt and the two
   * texts, either order), a pairwise choice (the interaction's two responses, either order), a
   * thumb (the response) or a ranking (the interaction's set of responses; compared pair by pair).
   * Ratings are not compared: scales and criteria differ too much for "the same" to be clear.
   */
  record Label(List<String> item, String annotator, String value, boolean ranking) {}

  static Label label(FeedbackEvent e) {
    Object p = e.getPayload();
    Annotator a = annotator(p);
    if (a == null) {
      return null;
    }
    String who = a.getId();
    if (p instanceof LabeledPair x) {
      boolean chosenFirst = x.getChosen().compareTo(x.getRejected()) <= 0;
      String first = chosenFirst ? x.getChosen() : x.getRejected();
      String second = chosenFirst ? x.getRejected() : x.getChosen();
      return new Label(
          List.of("labeled_pair", x.getCriterion(), x.getPrompt(), first, second),
          who,
          chosenFirst ? "first" : "second",
          false);
    } else if (p instanceof PairwiseChoice x) {
      String c = x.getChosenResponseId();
      String r = x.getRejectedResponseId();
      boolean chosenFirst = c.compareTo(r) <= 0;
      return new Label(
          List.of(
              "choice",
              x.getCriterion(),
              e.getInteractionId(),
              chosenFirst ? c : r,
              chosenFirst ? r : c),
          who,
          x.getTie() ? "tie" : c,
          false);
    } else if (p instanceof Thumb x) {
      return new Label(
          List.of("thumb", e.getInteractionId(), x.getResponseId()),
          who,
          x.getUp() ? "up" : "down",
          false);
    } else if (p instanceof Ranking x) {
      List<String> item =
          new ArrayList<>(List.of("ranking", x.getCriterion(), e.getInteractionId()));
      item.addAll(x.getResponseIds().stream().sorted().toList());
      return new Label(item, who, String.join("\u001f", x.getResponseIds()), true);
    }
    return null;
  }

  /**
   * Two rankings of the same responses compared pair by pair: concordant pairs agree, discordant
   * pairs disagree.
   */
  static int[] concordance(String a, String b) {
    List<String> x = List.of(a.split("\u001f", -1));
    List<String> y = List.of(b.split("\u001f", -1));
    int[] counts = new int[2];
    for (int i = 0; i < x.size(); i++) {
      for (int j = i + 1; j < x.size(); j++) {
        int pi = y.indexOf(x.get(i));
        int pj = y.indexOf(x.get(j));
        if (pi >= 0 && pj >= 0) {
          counts[pi < pj ? 0 : 1]++;
        }
      }
    }
    return counts;
  }

  static byte[] encode(Map<String, String> labels) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(labels.size());
      for (Map.Entry<String, String> e : labels.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeUTF(e.getValue());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static Map<String, String> decode(byte[] bytes) {
    Map<String, String> labels = new LinkedHashMap<>();
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      int n = in.readInt();
      for (int i = 0; i < n; i++) {
        labels.put(in.readUTF(), in.readUTF());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return labels;
  }
}
