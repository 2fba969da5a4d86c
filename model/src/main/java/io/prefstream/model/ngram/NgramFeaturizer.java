package io.prefstream.model.ngram;

import io.prefstream.model.ModelOptions;
import io.prefstream.model.ModelSpec;
import java.util.Arrays;

/**
 * Turns a (prompt, response) into hashed word unigrams and bigrams and in-word character n-grams of
 * each text, plus {@link StructureFeatures} of the response. Deterministic: the same texts and spec
 * give the same features on every machine and JVM, which the trainer and scorer rely on.
 *
 * <p>Each text becomes a bag: distinct buckets (in no particular order) with {@code log(1 + count)}
 * values, L2-normalised. A text with more distinct buckets than {@code model.max-features} keeps
 * those with the smallest mixed hash, a stable sample that does not favour the start of long texts.
 * Bucket 0 is padding.
 */
public final class NgramFeaturizer {

  /** Bumped whenever features change meaning; recorded in checkpoints. */
  public static final int VERSION = 2;

  private static final long PROMPT_WORD = 0x9E3779B97F4A7C15L;
  private static final long PROMPT_CHAR = 0xC2B2AE3D27D4EB4FL;
  private static final long RESPONSE_WORD = 0x165667B19E3779F9L;
  private static final long RESPONSE_CHAR = 0xD6E8FEB86659FD93L;
  private static final long BIGRAM = 0x27D4EB2F165667C5L;

  private static final int PROMPT_CACHE = 4096;

  private final java.util.concurrent.ConcurrentHashMap<String, PromptFeatures> prompts =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final int buckets;

  /**
   * Working arrays, lent to one featurizing call at a time. A pool rather than a ThreadLocal: the
   * fork-join common pool that featurizes batches drops its workers' thread-locals between tasks,
   * which made every text allocate (and zero) a 1 MB table.
   */
  private final java.util.concurrent.ConcurrentLinkedQueue<Scratch> scratches =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  private final int maxFeatures;
  private final int charN;

  public NgramFeaturizer(int buckets, int maxFeatures, int charN) {
    if (buckets < 2) {
      throw new IllegalArgumentException("buckets must be at least 2, got " + buckets);
    }
    this.buckets = buckets;
    this.maxFeatures = maxFeatures;
    this.charN = charN;
  }

  public static NgramFeaturizer of(ModelSpec spec) {
    return new NgramFeaturizer(
        spec.get(ModelOptions.BUCKETS),
        spec.get(ModelOptions.MAX_FEATURES),
        spec.get(ModelOptions.CHAR_NGRAM));
  }

  /** A text's features: parallel distinct bucket ids (no zero) and weights. */
  public record Bag(int[] ids, float[] values) {
    public int size() {
      return ids.length;
    }
  }

  /** Everything the model reads of one candidate. */
  public record Features(Bag prompt, Bag response, float[] structure) {}

  /** Thread-safe. Prompts repeat (every response to one prompt shares it), so theirs are cached. */
  public Features featurize(String prompt, String response) {
    PromptFeatures p = prompts.get(prompt);
    if (p == null) {
      Tokens tokens = Tokens.of(prompt);
      p =
          new PromptFeatures(
              bag(prompt, tokens, PROMPT_WORD, PROMPT_CHAR), tokens.distinct(), tokens.count);
      if (prompts.size() >= PROMPT_CACHE) {
        prompts.clear();
      }
      prompts.put(prompt, p);
    }
    Tokens r = Tokens.of(response);
    Bag responseBag = bag(response, r, RESPONSE_WORD, RESPONSE_CHAR);
    return new Features(
        p.bag(), responseBag, StructureFeatures.of(p.words(), p.wordCount(), response, r));
  }

  private record PromptFeatures(Bag bag, long[] words, int wordCount) {}

  private Bag bag(String text, Tokens tokens, long wordSeed, long charSeed) {
    Scratch scratch = scratches.poll();
    if (scratch == null) {
      scratch = new Scratch(buckets);
    }
    try {
      return bag(text, tokens, wordSeed, charSeed, scratch);
    } finally {
      scratches.offer(scratch);
    }
  }

  private Bag bag(String text, Tokens tokens, long wordSeed, long charSeed, Scratch scratch) {
    long[] hashes =
        scratch.hashes(tokens.count * 2 + (charN > 0 ? text.length() + 2 * tokens.count : 0));
    int n = 0;
    for (int i = 0; i < tokens.count; i++) {
      hashes[n++] = mix(tokens.hashes[i] ^ wordSeed);
      if (i > 0) {
        hashes[n++] = mix(tokens.hashes[i - 1] * 31 + tokens.hashes[i] ^ BIGRAM ^ wordSeed);
      }
    }
    if (charN > 0) {
      n = charNgrams(text, tokens, charSeed, hashes, n, scratch);
    }
    // Count buckets with a generation-stamped table the size of the bucket space: no
    // sorting, probing or clearing per text.
    long generation = (long) scratch.nextGeneration() << 32;
    long[] slots = scratch.slots;
    int[] ids = scratch.ids(n);
    int[] counts = scratch.counts(n);
    int distinct = 0;
    for (int i = 0; i < n; i++) {
      // Lemire's multiply-shift range reduction: a uniform bucket in [1, buckets), no division.
      int id = 1 + (int) (((hashes[i] >>> 32) * (buckets - 1)) >>> 32);
      long slot = slots[id];
      if ((slot & 0xFFFFFFFF00000000L) != generation) {
        slots[id] = generation | distinct;
        ids[distinct] = id;
        counts[distinct++] = 1;
      } else {
        counts[(int) slot]++;
      }
    }
    if (distinct > maxFeatures) {
      return sample(ids, counts, distinct);
    }
    return normalised(Arrays.copyOf(ids, distinct), Arrays.copyOf(counts, distinct));
  }

  /** Working arrays, so featurizing a text allocates little; used by one call at a time. */
  private static final class Scratch {
    /** Per bucket: the generation (high half) that last saw it, and its slot in this text. */
    final long[] slots;

    private long[] hashes = new long[4096];
    private int[] ids = new int[4096];
    private int[] counts = new int[4096];
    private char[] chars = new char[64];
    private int generation;

    Scratch(int buckets) {
      slots = new long[buckets];
    }

    long[] hashes(int size) {
      if (hashes.length < size) {
        hashes = new long[Math.max(size, 2 * hashes.length)];
      }
      return hashes;
    }

    int[] ids(int size) {
      if (ids.length < size) {
        ids = new int[Math.max(size, 2 * ids.length)];
      }
      return ids;
    }

    char[] chars(int size) {
      if (chars.length < size) {
        chars = new char[Math.max(size, 2 * chars.length)];
      }
      return chars;
    }

    int[] counts(int size) {
      if (counts.length < size) {
        counts = new int[Math.max(size, 2 * counts.length)];
      }
      return counts;
    }

    int nextGeneration() {
      if (++generation == Integer.MAX_VALUE) {
        Arrays.fill(slots, 0);
        generation = 1;
      }
      return generation;
    }
  }

  /**
   * Character n-grams inside each word token, with word-boundary marks, as fastText does. Up to 4
   * characters are packed exactly into one long as the word is read (16 bits each), so each n-gram
   * costs one mix; longer n-grams are hashed by FNV-1a first.
   */
  private int charNgrams(
      String text, Tokens tokens, long seed, long[] out, int n, Scratch scratch) {
    long mask = charN >= 4 ? -1L : (1L << (16 * charN)) - 1;
    for (int t = 0; t < tokens.count; t++) {
      int start = tokens.starts[t];
      int end = tokens.ends[t];
      int len = end - start + 2; // with '<' and '>'
      if (len < charN) {
        continue;
      }
      if (charN <= 4) {
        long packed = '<';
        for (int k = 1; k < len; k++) {
          char c = k == len - 1 ? '>' : Character.toLowerCase(text.charAt(start + k - 1));
          packed = packed << 16 | c;
          if (k + 1 >= charN) {
            out[n++] = mix((packed & mask) ^ seed);
          }
        }
        continue;
      }
      char[] word = scratch.chars(len);
      word[0] = '<';
      for (int k = 1; k < len - 1; k++) {
        word[k] = Character.toLowerCase(text.charAt(start + k - 1));
      }
      word[len - 1] = '>';
      for (int i = 0; i + charN <= len; i++) {
        long h = 0xCBF29CE484222325L ^ seed;
        for (int k = i; k < i + charN; k++) {
          h = (h ^ word[k]) * 0x100000001B3L;
        }
        out[n++] = mix(h);
      }
    }
    return n;
  }

  /**
   * The {@code maxFeatures} buckets of smallest mixed-hash rank (ties by first appearance): a
   * uniform, stable sample, kept in order of appearance. Ranks are uniform, so a histogram of their
   * top bits finds the cut in one pass and only the few in the cut's bin are sorted: comparison
   * sorts and selections of a few hundred random keys cost most of the featurizer's time, in
   * mispredicted branches.
   */
  private Bag sample(int[] ids, int[] counts, int distinct) {
    long[] keys = new long[distinct];
    int[] histogram = new int[256];
    for (int i = 0; i < distinct; i++) {
      long rank = mix(ids[i]) >>> 32;
      keys[i] = rank << 31 | i; // rank, then index: distinct, non-negative, ordered as wanted
      histogram[(int) (rank >>> 24)]++;
    }
    int bin = 0;
    int below = 0;
    while (below + histogram[bin] < maxFeatures) {
      below += histogram[bin++];
    }
    long[] edge = new long[histogram[bin]];
    int n = 0;
    for (int i = 0; i < distinct; i++) {
      if ((int) (keys[i] >>> 55) == bin) {
        edge[n++] = keys[i];
      }
    }
    Arrays.sort(edge);
    long last = edge[maxFeatures - below - 1];
    int[] keptIds = new int[maxFeatures];
    int[] keptCounts = new int[maxFeatures];
    int kept = 0;
    for (int i = 0; i < distinct; i++) {
      if (keys[i] <= last) {
        keptIds[kept] = ids[i];
        keptCounts[kept++] = counts[i];
      }
    }
    return normalised(keptIds, keptCounts);
  }

  private static final float[] LOG1P = new float[1024];

  static {
    for (int i = 0; i < LOG1P.length; i++) {
      LOG1P[i] = (float) Math.log1p(i);
    }
  }

  /**
   * {@code (float) log(1 + n)}, from a table for the small counts that make nearly all calls: on
   * Java 17 Math.log1p is a native fdlibm call, costlier than the rest of a bucket's work.
   */
  static float log1p(int n) {
    return n < LOG1P.length ? LOG1P[n] : (float) Math.log1p(n);
  }

  private static Bag normalised(int[] ids, int[] counts) {
    float[] values = new float[ids.length];
    double norm = 0;
    for (int i = 0; i < ids.length; i++) {
      values[i] = log1p(counts[i]);
      norm += values[i] * values[i];
    }
    if (norm > 0) {
      float scale = (float) (1 / Math.sqrt(norm));
      for (int i = 0; i < values.length; i++) {
        values[i] *= scale;
      }
    }
    return new Bag(ids, values);
  }

  /** The lower-cased word tokens of a text (runs of letters or digits), as 64-bit hashes. */
  public static long[] wordHashes(String text) {
    Tokens tokens = Tokens.of(text);
    return Arrays.copyOf(tokens.hashes, tokens.count);
  }

  /** MurmurHash3's 64-bit finaliser: spreads every input bit over the whole word. */
  public static long mix(long h) {
    h ^= h >>> 33;
    h *= 0xFF51AFD7ED558CCDL;
    h ^= h >>> 33;
    h *= 0xC4CEB9FE1A85EC53L;
    h ^= h >>> 33;
    return h;
  }

  /** The word tokens of a text (runs of letters or digits, lower-cased) and their positions. */
  static final class Tokens {
    final long[] hashes;
    final int[] starts;
    final int[] ends;
    final int count;

    private Tokens(long[] hashes, int[] starts, int[] ends, int count) {
      this.hashes = hashes;
      this.starts = starts;
      this.ends = ends;
      this.count = count;
    }

    static Tokens of(String text) {
      int capacity = text.length() / 2 + 1;
      long[] hashes = new long[capacity];
      int[] starts = new int[capacity];
      int[] ends = new int[capacity];
      int count = 0;
      int i = 0;
      int length = text.length();
      while (i < length) {
        char c = text.charAt(i);
        if (Character.isLetterOrDigit(c)) {
          int start = i;
          long h = 0xCBF29CE484222325L;
          while (i < length && Character.isLetterOrDigit(text.charAt(i))) {
            h = (h ^ Character.toLowerCase(text.charAt(i))) * 0x100000001B3L;
            i++;
          }
          hashes[count] = h;
          starts[count] = start;
          ends[count++] = i;
        } else {
          i++;
        }
      }
      return new Tokens(hashes, starts, ends, count);
    }

    /** Distinct token hashes, sorted, for overlap measures. */
    long[] distinct() {
      long[] sorted = Arrays.copyOf(hashes, count);
      Arrays.sort(sorted);
      int n = 0;
      for (int i = 0; i < sorted.length; i++) {
        if (n == 0 || sorted[n - 1] != sorted[i]) {
          sorted[n++] = sorted[i];
        }
      }
      return Arrays.copyOf(sorted, n);
    }
  }
}
