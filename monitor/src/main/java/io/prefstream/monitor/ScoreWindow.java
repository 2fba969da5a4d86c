package io.prefstream.monitor;

import io.prefstream.avro.ScoreRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * One window of a model version's served scores: their histogram over the bins of the checkpoint's
 * reference histogram (its edges; as there, the outer bins take what falls beyond), and a uniform
 * sample of (score, response words) pairs for the length-reward correlation. Kept in a state store.
 */
final class ScoreWindow {

  /** Most (score, words) pairs kept for the rank correlation. */
  static final int SAMPLE = 512;

  String tenant = "";
  String model = "";
  long version;
  double[] edges = new double[0];
  double[] reference = new double[0];
  long[] counts = new long[0];
  long n;
  double[] scores = new double[0];
  double[] words = new double[0];

  /** Adds a served score; {@code referenceEdges} and counts from its checkpoint, or null. */
  ScoreWindow add(ScoreRecord r, double[] referenceEdges, double[] referenceCounts) {
    if (n == 0) {
      tenant = r.getTenantId();
      model = r.getModel();
      version = r.getVersion();
    }
    if (edges.length == 0 && referenceEdges != null && referenceEdges.length >= 2) {
      edges = referenceEdges.clone();
      reference = referenceCounts.clone();
      counts = new long[reference.length];
    }
    n++;
    double raw = r.getRawScore();
    if (counts.length > 0) {
      counts[bin(raw)]++;
    }
    if (scores.length < SAMPLE) {
      scores = java.util.Arrays.copyOf(scores, scores.length + 1);
      words = java.util.Arrays.copyOf(words, words.length + 1);
      scores[scores.length - 1] = raw;
      words[words.length - 1] = r.getResponseTokens();
    } else {
      long slot = new SplittableRandom(n * 0x9E3779B97F4A7C15L).nextLong(n);
      if (slot < SAMPLE) {
        scores[(int) slot] = raw;
        words[(int) slot] = r.getResponseTokens();
      }
    }
    return this;
  }

  /** The reference bin of {@code v}: bin i holds [edges[i], edges[i+1]); the outer bins beyond. */
  int bin(double v) {
    int lo = 0;
    int hi = counts.length - 1; // how many interior edges (edges[1..bins−1]) are ≤ v
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (v >= edges[mid + 1]) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  double[] referenceBins() {
    return reference.clone();
  }

  double[] countBins() {
    double[] bins = new double[counts.length];
    for (int i = 0; i < counts.length; i++) {
      bins[i] = counts[i];
    }
    return bins;
  }

  static final Serde<ScoreWindow> SERDE =
      Serdes.serdeFrom(
          (Serializer<ScoreWindow>) (topic, w) -> w == null ? null : w.encode(),
          (Deserializer<ScoreWindow>) (topic, bytes) -> bytes == null ? null : decode(bytes));

  byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF(tenant);
      out.writeUTF(model);
      out.writeLong(version);
      out.writeLong(n);
      for (double[] a : List.of(edges, reference, scores, words)) {
        out.writeInt(a.length);
        for (double v : a) {
          out.writeDouble(v);
        }
      }
      out.writeInt(counts.length);
      for (long c : counts) {
        out.writeLong(c);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static ScoreWindow decode(byte[] bytes) {
    ScoreWindow w = new ScoreWindow();
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      w.tenant = in.readUTF();
      w.model = in.readUTF();
      w.version = in.readLong();
      w.n = in.readLong();
      w.edges = doubles(in);
      w.reference = doubles(in);
      w.scores = doubles(in);
      w.words = doubles(in);
      w.counts = new long[in.readInt()];
      for (int i = 0; i < w.counts.length; i++) {
        w.counts[i] = in.readLong();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w;
  }

  private static double[] doubles(DataInputStream in) throws IOException {
    double[] a = new double[in.readInt()];
    for (int i = 0; i < a.length; i++) {
      a[i] = in.readDouble();
    }
    return a;
  }
}
