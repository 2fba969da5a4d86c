package io.prefstream.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.schemas.JsonForm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Java client of the ingest API. {@link #send} queues an event and returns a future of its
 * result; sender threads batch queued events by count, bytes and linger into NDJSON requests, retry
 * with backoff on 429, 503 and connection errors (event ids make retries safe), and complete each
 * future with the server's per-event answer. {@link #close()} flushes.
 *
 * <pre>{@code
 * try (FeedbackClient client = FeedbackClient.builder(URI.create("http://localhost:8080"), "demo-key").build()) {
 *   client.send(event).thenAccept(r -> ...);
 * }
 * }</pre>
 */
public final class FeedbackClient implements AutoCloseable {

  private static final Pending POISON = new Pending(new byte[0], null);
  private static final JsonForm<FeedbackEvent> FORM = JsonForm.of(FeedbackEvent.class);

  private record Pending(byte[] line, CompletableFuture<EventResult> result) {}

  private final URI endpoint;
  private final String authorization;
  private final int maxBatchEvents;
  private final long maxBatchBytes;
  private final Duration linger;
  private final int maxRetries;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final Duration requestTimeout;
  private final HttpClient http;
  private final BlockingQueue<Pending> queue;
  private final List<Thread> senders = new ArrayList<>();
  private final AtomicInteger outstanding = new AtomicInteger();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private volatile boolean closed;

  private FeedbackClient(Builder b) {
    this.endpoint = b.ingest.resolve("/v1/events");
    this.authorization = "Bearer " + b.apiKey;
    this.maxBatchEvents = b.maxBatchEvents;
    this.maxBatchBytes = b.maxBatchBytes;
    this.linger = b.linger;
    this.maxRetries = b.maxRetries;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.requestTimeout = b.requestTimeout;
    this.http =
        b.http != null
            ? b.http
            : HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    this.queue = new LinkedBlockingQueue<>(b.maxQueued);
    for (int i = 0; i < b.senders; i++) {
      Thread sender = new Thread(this::sendLoop, "feedback-client-sender-" + i);
      sender.setDaemon(true);
      sender.start();
      senders.add(sender);
    }
  }

  public static Builder builder(URI ingest, String apiKey) {
    return new Builder(ingest, apiKey);
  }

  /** Queues an event (blocking while the queue is full); the future completes with its result. */
  public CompletableFuture<EventResult> send(FeedbackEvent event) {
    return sendJson(FORM.print(event));
  }

  /**
   * Queues one event given as JSON text, sent as is (line breaks become spaces), so that callers
   * holding JSON need no Avro object. Invalid JSON comes back as a rejected result.
   */
  public CompletableFuture<EventResult> sendJson(String json) {
    if (closed) {
      throw new IllegalStateException("FeedbackClient is closed");
    }
    String oneLine = json.replace('\n', ' ').replace('\r', ' ');
    // A blank line is no event to the server: send JSON null so it is answered (rejected) in place.
    byte[] line = (oneLine.isBlank() ? "null" : oneLine).getBytes(StandardCharsets.UTF_8);
    CompletableFuture<EventResult> result = new CompletableFuture<>();
    outstanding.incrementAndGet();
    result.whenComplete((r, e) -> outstanding.decrementAndGet());
    try {
      queue.put(new Pending(line, result));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      result.completeExceptionally(e);
    }
    return result;
  }

  /** Waits until every event sent so far has its result. */
  public void flush() throws InterruptedException {
    while (outstanding.get() > 0) {
      Thread.sleep(2);
    }
  }

  /** HTTP requests made, retries included. */
  public long requests() {
    return requests.get();
  }

  /** Requests repeated after a 429, a 503 or a connection error. */
  public long retries() {
    return retries.get();
  }

  /** Flushes, then stops the sender threads. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    try {
      flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closed = true;
    for (int i = 0; i < senders.size(); i++) {
      queue.offer(POISON);
    }
    for (Thread sender : senders) {
      try {
        sender.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private void sendLoop() {
    while (true) {
      List<Pending> batch = new ArrayList<>();
      try {
        Pending first = queue.take();
        if (first == POISON) {
          return;
        }
        batch.add(first);
        long bytes = first.line.length + 1;
        long deadline = System.nanoTime() + linger.toNanos();
        while (batch.size() < maxBatchEvents) {
          Pending next = queue.peek();
          if (next != null && next != POISON && bytes + next.line.length + 1 > maxBatchBytes) {
            break;
          }
          next = queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          if (next == null) {
            break;
          }
          if (next == POISON) {
            queue.offer(POISON);
            break;
          }
          batch.add(next);
          bytes += next.line.length + 1;
        }
        deliver(batch);
      } catch (InterruptedException e) {
        batch.forEach(p -> p.result.completeExceptionally(e));
        return;
      } catch (RuntimeException e) {
        batch.forEach(p -> p.result.completeExceptionally(e));
      }
    }
  }

  /** Sends a batch until every event has a final result or the retries are spent. */
  private void deliver(List<Pending> batch) throws InterruptedException {
    List<Pending> todo = batch;
    String lastProblem = null;
    for (int attempt = 0; attempt <= maxRetries && !todo.isEmpty(); attempt++) {
      if (attempt > 0) {
        retries.incrementAndGet();
      }
      long waitMillis = 0;
      try {
        requests.incrementAndGet();
        HttpResponse<byte[]> response =
            http.send(request(todo), HttpResponse.BodyHandlers.ofByteArray());
        int status = response.statusCode();
        JsonNode body = parse(response.body());
        JsonNode results = body == null ? null : body.get("results");
        if (results != null && results.isArray()) {
          todo = complete(todo, results);
          lastProblem = status + " " + body.path("error").asText("");
        } else {
          lastProblem = status + " " + (body == null ? "" : body.toString());
          if (status != 429 && status != 503) {
            FeedbackClientException error = new FeedbackClientException(status, lastProblem);
            todo.forEach(p -> p.result.completeExceptionally(error));
            return;
          }
        }
        waitMillis = response.headers().firstValueAsLong("Retry-After").orElse(0) * 1000;
      } catch (IOException e) {
        lastProblem = e.toString();
      }
      if (!todo.isEmpty() && attempt < maxRetries) {
        Thread.sleep(Math.max(waitMillis, backoffMillis(attempt)));
      }
    }
    if (!todo.isEmpty()) {
      FeedbackClientException error =
          new FeedbackClientException(
              -1, "gave up after " + (maxRetries + 1) + " attempts; last: " + lastProblem);
      todo.forEach(p -> p.result.completeExceptionally(error));
    }
  }

  /** Completes the final results; returns the events to send again (status failed). */
  private static List<Pending> complete(List<Pending> sent, JsonNode results) {
    List<Pending> again = new ArrayList<>();
    boolean[] answered = new boolean[sent.size()];
    for (JsonNode node : results) {
      int index = node.path("index").asInt(-1);
      if (index < 0 || index >= sent.size() || answered[index]) {
        continue;
      }
      answered[index] = true;
      EventResult result = resultOf(node);
      if (result.status() == EventStatus.FAILED) {
        again.add(sent.get(index));
      } else {
        sent.get(index).result.complete(result);
      }
    }
    for (int i = 0; i < sent.size(); i++) {
      if (!answered[i]) {
        again.add(sent.get(i));
      }
    }
    return again;
  }

  private static EventResult resultOf(JsonNode node) {
    return new EventResult(
        node.path("index").asInt(),
        text(node, "event_id"),
        EventStatus.fromCode(node.path("status").asText()),
        text(node, "field"),
        text(node, "error"),
        text(node, "reason"));
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value.asText();
  }

  private static JsonNode parse(byte[] body) {
    try {
      return body.length == 0 ? null : JsonForm.mapper().readTree(body);
    } catch (IOException e) {
      return null;
    }
  }

  private HttpRequest request(List<Pending> batch) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (Pending p : batch) {
      body.writeBytes(p.line);
      body.write('\n');
    }
    return HttpRequest.newBuilder(endpoint)
        .timeout(requestTimeout)
        .header("Authorization", authorization)
        .header("Content-Type", "application/x-ndjson")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
        .build();
  }

  private long backoffMillis(int attempt) {
    long base = initialBackoff.toMillis() << Math.min(attempt, 20);
    long capped = Math.min(maxBackoff.toMillis(), base);
    return capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
  }

  /** Builds a {@link FeedbackClient}; every option has a default. */
  public static final class Builder {
    private final URI ingest;
    private final String apiKey;
    private int maxBatchEvents = 500;
    private long maxBatchBytes = 512 * 1024;
    private Duration linger = Duration.ofMillis(20);
    private int maxRetries = 8;
    private Duration initialBackoff = Duration.ofMillis(100);
    private Duration maxBackoff = Duration.ofSeconds(5);
    private Duration requestTimeout = Duration.ofSeconds(30);
    private int maxQueued = 100_000;
    private int senders = 2;
    private HttpClient http;

    private Builder(URI ingest, String apiKey) {
      if (apiKey == null || apiKey.isBlank()) {
        throw new IllegalArgumentException("an API key is required");
      }
      this.ingest = ingest;
      this.apiKey = apiKey;
    }

    /** Events per request (default 500; keep at or under the server's limit, default 1000). */
    public Builder optMaxBatchEvents(int n) {
      this.maxBatchEvents = positive(n, "maxBatchEvents");
      return this;
    }

    /** Bytes per request (default 512 KiB; keep under the server's limit, default 1 MiB). */
    public Builder optMaxBatchBytes(long n) {
      this.maxBatchBytes = positive(n, "maxBatchBytes");
      return this;
    }

    /** How long a sender waits to fill a batch after its first event (default 20 ms). */
    public Builder optLinger(Duration d) {
      this.linger = d;
      return this;
    }

    /** Retries of a request after 429, 503 or a connection error (default 8). */
    public Builder optMaxRetries(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("maxRetries must not be negative, got " + n);
      }
      this.maxRetries = n;
      return this;
    }

    /** First backoff, doubled per retry up to {@code max}, with jitter (100 ms, 5 s). */
    public Builder optBackoff(Duration initial, Duration max) {
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    public Builder optRequestTimeout(Duration d) {
      this.requestTimeout = d;
      return this;
    }

    /** Events queued before {@code send} blocks (default 100,000). */
    public Builder optMaxQueued(int n) {
      this.maxQueued = positive(n, "maxQueued");
      return this;
    }

    /** Concurrent requests (sender threads, default 2). */
    public Builder optSenders(int n) {
      this.senders = positive(n, "senders");
      return this;
    }

    public Builder optHttpClient(HttpClient client) {
      this.http = client;
      return this;
    }

    public FeedbackClient build() {
      return new FeedbackClient(this);
    }

    private static int positive(int n, String name) {
      if (n < 1) {
        throw new IllegalArgumentException(name + " must be positive, got " + n);
      }
      return n;
    }

    private static long positive(long n, String name) {
      if (n < 1) {
        throw new IllegalArgumentException(name + " must be positive, got " + n);
      }
      return n;
    }
  }
}
