package io.prefstream.monitor;

import io.prefstream.avro.Exposure;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.ImplicitSignal;
import io.prefstream.avro.Rating;
import io.prefstream.avro.Thumb;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * One window of a tenant's feedback as distributions: signal kinds, prompt and response lengths
 * (log-spaced character bins), the responses' dominant scripts, thumbs and ratings. The same shape
 * serves as the decayed reference the next windows are compared with.
 */
final class FeedbackWindow {

  /** Signal kinds: payload types, implicit signals by kind. */
  static final List<String> KINDS =
      List.of(
          "exposure",
          "rating",
          "thumb",
          "pairwise_choice",
          "ranking",
          "labeled_pair",
          "implicit_accept",
          "implicit_copy",
          "implicit_share",
          "implicit_dwell",
          "implicit_edit",
          "implicit_regenerate",
          "implicit_rephrase",
          "implicit_abandon");

  /** Upper edges of the length bins in characters; the last bin is open. */
  static final int[] LENGTH_EDGES = {16, 32, 64, 128, 256, 512, 1024, 2048, 4096};

  /** Scripts counted apart; the rest are OTHER. */
  static final List<String> SCRIPTS =
      List.of("LATIN", "CYRILLIC", "HAN", "ARABIC", "DEVANAGARI", "HIRAGANA", "HANGUL", "OTHER");

  String tenant = "";
  double[] kinds = new double[KINDS.size()];
  double[] promptLengths = new double[LENGTH_EDGES.length + 1];
  double[] responseLengths = new double[LENGTH_EDGES.length + 1];
  double[] scripts = new double[SCRIPTS.size()];
  double thumbs;
  double thumbsUp;
  double ratings;
  double ratingSum; // ratings scaled to [0, 1] by their scale
  double events;
  double deadLetters;
  double late;
  double droppedLate; // dead letters of events too late for the pair builder
  double duplicateIds;
  double duplicateContent;
  double agreements;
  double disagreements;

  FeedbackWindow add(FeedbackEvent e) {
    tenant = e.getTenantId();
    events++;
    Object p = e.getPayload();
    if (p instanceof Exposure x) {
      promptLengths[lengthBin(x.getPrompt().length())]++;
      responseLengths[lengthBin(x.getResponse().length())]++;
      scripts[SCRIPTS.indexOf(script(x.getResponse()))]++;
    } else if (p instanceof Rating r) {
      double span = r.getScaleMax() - r.getScaleMin();
      if (span > 0) {
        ratings++;
        ratingSum += (r.getValue() - r.getScaleMin()) / span;
      }
    } else if (p instanceof Thumb t) {
      thumbs++;
      thumbsUp += t.getUp() ? 1 : 0;
    }
    int k = KINDS.indexOf(kind(e));
    if (k >= 0) {
      kinds[k]++;
    }
    return this;
  }

  /** The signal kind of an event, as {@link #KINDS} names it. */
  static String kind(FeedbackEvent e) {
    Object p = e.getPayload();
    if (p instanceof ImplicitSignal s) {
      return "implicit_" + s.getKind().name().toLowerCase(java.util.Locale.ROOT);
    }
    return snake(p.getClass().getSimpleName());
  }

  /** Counts a dead letter of this tenant (a rejected event). */
  FeedbackWindow addDeadLetter(String tenant) {
    this.tenant = tenant;
    deadLetters++;
    return this;
  }

  FeedbackWindow add(Signal s) {
    if (s.event() == null) {
      if (s.letter().getReason().startsWith("late")) {
        droppedLate++;
      }
      return addDeadLetter(s.letter().getTenantId());
    }
    late += s.is(Signal.LATE) ? 1 : 0;
    duplicateIds += s.is(Signal.DUPLICATE_ID) ? 1 : 0;
    duplicateContent += s.is(Signal.DUPLICATE_CONTENT) ? 1 : 0;
    agreements += s.agreements();
    disagreements += s.disagreements();
    return add(s.event());
  }

  static int lengthBin(int chars) {
    int b = 0;
    while (b < LENGTH_EDGES.length && chars >= LENGTH_EDGES[b]) {
      b++;
    }
    return b;
  }

  private static String snake(String camel) {
    return camel.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
  }

  /** The most frequent script among the letters, OTHER when not one of {@link #SCRIPTS}. */
  static String script(String text) {
    int[] counts = new int[SCRIPTS.size()];
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (Character.isLetter(cp)) {
        int s = SCRIPTS.indexOf(Character.UnicodeScript.of(cp).name());
        counts[s < 0 ? SCRIPTS.size() - 1 : s]++;
      }
    }
    int best = SCRIPTS.size() - 1;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] > counts[best]) {
        best = i;
      }
    }
    return SCRIPTS.get(best);
  }

  /** This reference moved toward {@code w}: each count decays by {@code keep}, then adds w's. */
  FeedbackWindow decayInto(FeedbackWindow w, double keep) {
    tenant = w.tenant;
    List<double[][]> pairs =
        List.of(
            new double[][] {kinds, w.kinds},
            new double[][] {promptLengths, w.promptLengths},
            new double[][] {responseLengths, w.responseLengths},
            new double[][] {scripts, w.scripts});
    for (double[][] p : pairs) {
      for (int i = 0; i < p[0].length; i++) {
        p[0][i] = p[0][i] * keep + p[1][i];
      }
    }
    thumbs = thumbs * keep + w.thumbs;
    thumbsUp = thumbsUp * keep + w.thumbsUp;
    ratings = ratings * keep + w.ratings;
    ratingSum = ratingSum * keep + w.ratingSum;
    events = events * keep + w.events;
    deadLetters = deadLetters * keep + w.deadLetters;
    return this;
  }

  double thumbsUpRate() {
    return thumbs == 0 ? Double.NaN : thumbsUp / thumbs;
  }

  double ratingMean() {
    return ratings == 0 ? Double.NaN : ratingSum / ratings;
  }

  static final Serde<FeedbackWindow> SERDE =
      Serdes.serdeFrom(
          (Serializer<FeedbackWindow>) (topic, w) -> w == null ? null : w.encode(),
          (Deserializer<FeedbackWindow>) (topic, b) -> b == null ? null : decode(b));

  byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF(tenant);
      for (double[] a : List.of(kinds, promptLengths, responseLengths, scripts)) {
        for (double v : a) {
          out.writeDouble(v);
        }
      }
      for (double v : new double[] {thumbs, thumbsUp, ratings, ratingSum, events, deadLetters}) {
        out.writeDouble(v);
      }
      // Data quality, appended later: older stored windows end before it.
      for (double v :
          new double[] {
            late, droppedLate, duplicateIds, duplicateContent, agreements, disagreements
          }) {
        out.writeDouble(v);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static FeedbackWindow decode(byte[] bytes) {
    FeedbackWindow w = new FeedbackWindow();
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      w.tenant = in.readUTF();
      for (double[] a : List.of(w.kinds, w.promptLengths, w.responseLengths, w.scripts)) {
        for (int i = 0; i < a.length; i++) {
          a[i] = in.readDouble();
        }
      }
      w.thumbs = in.readDouble();
      w.thumbsUp = in.readDouble();
      w.ratings = in.readDouble();
      w.ratingSum = in.readDouble();
      w.events = in.readDouble();
      w.deadLetters = in.readDouble();
      if (in.available() > 0) {
        w.late = in.readDouble();
        w.droppedLate = in.readDouble();
        w.duplicateIds = in.readDouble();
        w.duplicateContent = in.readDouble();
        w.agreements = in.readDouble();
        w.disagreements = in.readDouble();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w;
  }
}
