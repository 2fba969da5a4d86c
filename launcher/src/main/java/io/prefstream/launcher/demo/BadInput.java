package io.prefstream.launcher.demo;

import io.prefstream.http.ApiKeys;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bad-input scenario's garbage: on a thread of its own, beside the valid traffic, requests no
 * client should send — bodies that are not JSON, events of the wrong shape, a wrong API key, no
 * key, a body over the size limit, the wrong media type. Every one must be answered 4xx with a body
 * naming the problem; any 5xx is recorded as a server error.
 */
final class BadInput {

  /**
   * What came back.
   *
   * @param byStatus answers by HTTP status
   * @param serverErrors the 5xx answers (should be none)
   * @param unanswered requests whose connection closed before an answer was read: ingest may answer
   *     413 to an oversized body and close while the client is still sending it
   */
  record Result(
      long sent, Map<Integer, Long> byStatus, List<String> serverErrors, List<String> unanswered) {}

  private static final List<String[]> REQUESTS =
      List.of(
          new String[] {"key", "application/json", "this is not JSON"},
          new String[] {"key", "application/json", "{\"event_id\": 42}"},
          new String[] {"key", "application/json", "[1, 2, 3]"},
          new String[] {
            "key",
            "application/json",
            "{\"event_id\": \"x\", \"tenant_id\": \"demo\", \"occurred_at\": \"yesterday\"}"
          },
          new String[] {"wrong", "application/json", "{}"},
          new String[] {"none", "application/json", "{}"},
          new String[] {"key", "text/plain", "hello"},
          new String[] {"key", "application/json", "{\"pad\": \"" + "x".repeat(6 << 20) + "\"}"});

  private final URI events;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Map<Integer, AtomicLong> byStatus = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<String> serverErrors = new CopyOnWriteArrayList<>();
  private final List<String> unanswered = new CopyOnWriteArrayList<>();
  private final AtomicLong sent = new AtomicLong();
  private final Thread thread;
  private volatile boolean stopped;

  private BadInput(URI ingest) {
    this.events = URI.create(ingest + "/v1/events");
    this.thread = new Thread(this::loop, "bad-input");
    thread.setDaemon(true);
  }

  static BadInput start(URI ingest) {
    BadInput b = new BadInput(ingest);
    b.thread.start();
    return b;
  }

  private void loop() {
    int i = 0;
    while (!stopped) {
      String[] r = REQUESTS.get(i++ % REQUESTS.size());
      HttpRequest.Builder request =
          HttpRequest.newBuilder(events)
              .timeout(Duration.ofSeconds(30))
              .header("Content-Type", r[1])
              .POST(HttpRequest.BodyPublishers.ofString(r[2]));
      if (r[0].equals("key")) {
        request.header("Authorization", "Bearer " + ApiKeys.DEMO_KEY);
      } else if (r[0].equals("wrong")) {
        request.header("Authorization", "Bearer not-a-key");
      }
      try {
        HttpResponse<String> answer =
            http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        sent.incrementAndGet();
        byStatus.computeIfAbsent(answer.statusCode(), s -> new AtomicLong()).incrementAndGet();
        if (answer.statusCode() >= 500) {
          serverErrors.add(answer.statusCode() + " for " + abbreviate(r[2]) + ": " + answer.body());
        }
        Thread.sleep(20);
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        sent.incrementAndGet();
        unanswered.add("no answer for " + abbreviate(r[2]) + ": " + e);
      }
    }
  }

  private static String abbreviate(String body) {
    return body.length() > 60 ? body.substring(0, 60) + "…" : body;
  }

  Result stop() throws InterruptedException {
    stopped = true;
    thread.interrupt();
    thread.join(30_000);
    Map<Integer, Long> counts = new TreeMap<>();
    byStatus.forEach((status, n) -> counts.put(status, n.get()));
    return new Result(sent.get(), counts, List.copyOf(serverErrors), List.copyOf(unanswered));
  }
}
