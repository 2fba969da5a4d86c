package io.prefstream.model.embed;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A frozen sentence encoder whose ONNX model and tokenizer ship inside a langchain4j jar on Maven
 * Central: {@code minilm-q} (all-MiniLM-L6-v2, quantized; mean pooling; 128 tokens) or {@code
 * bge-small} (bge-small-en-v1.5; CLS pooling; 512 tokens). Embeddings are L2-normalised, 384-d.
 *
 * <p>It runs several ONNX sessions of one intra-op thread each, one per worker thread: on few cores
 * that is faster than the library's default of one session using every core. Embeddings are cached
 * by text (bounded, least recently used out), so replayed and re-scored texts are encoded once. An
 * empty text embeds as the zero vector (the encoder refuses it).
 */
public final class SentenceEncoder implements AutoCloseable {

  public static final int DIMENSION = 384;

  private final String name;
  private final List<Session> sessions = new ArrayList<>();
  private final ExecutorService workers;
  private final Map<String, float[]> cache;
  private final int cacheCapacity;
  private long encoded;
  private long hits;

  public SentenceEncoder(String name, int sessionCount, int cacheCapacity) {
    this.name = name;
    this.cacheCapacity = cacheCapacity;
    this.cache =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, float[]> eldest) {
            return size() > SentenceEncoder.this.cacheCapacity;
          }
        };
    String model;
    String tokenizer;
    PoolingMode pooling;
    switch (name) {
      case "minilm-q" -> {
        model = "all-minilm-l6-v2-q.onnx";
        tokenizer = "all-minilm-l6-v2-q-tokenizer.json";
        pooling = PoolingMode.MEAN;
      }
      case "bge-small" -> {
        model = "bge-small-en-v1.5.onnx";
        tokenizer = "bge-small-en-v1.5-tokenizer.json";
        pooling = PoolingMode.CLS;
      }
      default ->
          throw new IllegalArgumentException(
              "model.encoder: unknown encoder '" + name + "'; known: minilm-q, bge-small");
    }
    byte[] modelBytes = resource(model);
    byte[] tokenizerBytes = resource(tokenizer);
    try {
      OrtEnvironment environment = OrtEnvironment.getEnvironment();
      for (int i = 0; i < sessionCount; i++) {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        OrtSession session = environment.createSession(modelBytes, options);
        sessions.add(
            new Session(
                new OnnxBertBiEncoder(
                    environment,
                    session,
                    new java.io.ByteArrayInputStream(tokenizerBytes),
                    pooling)));
      }
    } catch (OrtException e) {
      throw new IllegalStateException(
          "cannot start the " + name + " encoder: " + e.getMessage(), e);
    }
    this.workers =
        Executors.newFixedThreadPool(
            sessionCount,
            r -> {
              Thread t = new Thread(r, "prefstream-encoder");
              t.setDaemon(true);
              return t;
            });
  }

  private static byte[] resource(String name) {
    try (InputStream in = SentenceEncoder.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(
            "encoder resource "
                + name
                + " is not on the class path (its langchain4j jar is missing)");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read encoder resource " + name, e);
    }
  }

  public String name() {
    return name;
  }

  /** Embeddings of the texts, in order; cached ones are not encoded again. */
  public float[][] embed(List<String> texts) {
    float[][] out = new float[texts.size()][];
    List<Integer> missing = new ArrayList<>();
    synchronized (cache) {
      for (int i = 0; i < texts.size(); i++) {
        float[] cached = cache.get(texts.get(i));
        if (cached != null) {
          out[i] = cached;
          hits++;
        } else if (texts.get(i).isBlank()) {
          out[i] = new float[DIMENSION];
        } else {
          missing.add(i);
        }
      }
    }
    if (!missing.isEmpty()) {
      List<Future<?>> parts = new ArrayList<>();
      int per = (missing.size() + sessions.size() - 1) / sessions.size();
      for (int s = 0; s < sessions.size() && s * per < missing.size(); s++) {
        Session session = sessions.get(s);
        List<Integer> mine = missing.subList(s * per, Math.min(missing.size(), (s + 1) * per));
        parts.add(
            workers.submit(
                () -> {
                  for (int i : mine) {
                    out[i] = session.vector(texts.get(i));
                  }
                }));
      }
      for (Future<?> part : parts) {
        try {
          part.get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while encoding", e);
        } catch (ExecutionException e) {
          throw new IllegalStateException("encoding failed: " + e.getCause(), e.getCause());
        }
      }
      synchronized (cache) {
        encoded += missing.size();
        if (cacheCapacity > 0) {
          for (int i : missing) {
            cache.put(texts.get(i), out[i]);
          }
        }
      }
    }
    return out;
  }

  /** Texts encoded so far and cache hits, for benchmarks. */
  public synchronized long[] counts() {
    synchronized (cache) {
      return new long[] {encoded, hits};
    }
  }

  @Override
  public void close() {
    workers.shutdownNow();
  }

  /** One ONNX session, used by one thread at a time, through langchain4j's embedding model. */
  private static final class Session extends AbstractInProcessEmbeddingModel {
    private final OnnxBertBiEncoder encoder;

    Session(OnnxBertBiEncoder encoder) {
      super(Runnable::run);
      this.encoder = encoder;
    }

    @Override
    protected OnnxBertBiEncoder model() {
      return encoder;
    }

    @Override
    protected Integer knownDimension() {
      return DIMENSION;
    }

    float[] vector(String text) {
      Embedding e = embedAll(List.of(TextSegment.from(text))).content().get(0);
      return e.vector();
    }
  }
}
