package io.prefstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.schemas.Examples;
import io.prefstream.schemas.JsonForm;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 1,200 seeded, generated and mutated bodies against a real ingest: every answer is a 2xx or 4xx
 * with a JSON body, and every event of a 200 or 400 batch has a result. Then 200 events sent with
 * ill-formed UTF-8 and again well-formed: refused by field, and no two ids become one.
 */
@Timeout(300)
class IngestFuzzIT {

  private static final long SEED = 20261123L;
  private static final int BODIES = 1200;
  private static final JsonForm<FeedbackEvent> FORM = JsonForm.of(FeedbackEvent.class);
  private static final String[] CONTENT_TYPES = {
    "application/json",
    "application/json",
    "application/json",
    "application/x-ndjson",
    "application/x-ndjson",
    "text/plain",
    "application/json; charset=utf-16",
    "",
    null
  };
  private static final Object[] ODD_VALUES = {
    null,
    "",
    " ",
    "\u0000",
    "\ud83d\ude00",
    "é",
    0,
    -1,
    Long.MAX_VALUE,
    1e308,
    -1e308,
    true,
    "NaN",
    "2026-13-45T99:99:99Z",
    "x".repeat(70_000),
    List.of(),
    List.of(1, 2)
  };

  @Test
  void noBodyGetsA5xxAndEveryAnswerIsJson() throws Exception {
    Random random = new Random(SEED);
    try (IngestFixture fixture = IngestFixture.start()) {
      IngestServer server = fixture.server();
      int[] byStatus = new int[600];
      for (int i = 0; i < BODIES; i++) {
        String contentType = CONTENT_TYPES[random.nextInt(CONTENT_TYPES.length)];
        boolean ndjson = contentType != null && contentType.contains("ndjson");
        String body = body(random, i, ndjson);
        String key = random.nextInt(20) == 0 ? "wrong" : IngestFixture.KEY;

        HttpResponse<String> response =
            fixture.post(
                server,
                contentType == null || contentType.isEmpty() ? null : contentType,
                body,
                key);

        int status = response.statusCode();
        byStatus[status]++;
        assertThat(status).as("body %d: %s", i, abbreviate(body)).isBetween(200, 499);
        JsonNode answer = IngestFixture.json(response);
        assertThat(answer.isObject()).isTrue();
        assertThat(answer.has("results") || answer.has("error"))
            .as("answer %s", response.body())
            .isTrue();
        if (answer.has("results")) {
          for (JsonNode result : answer.get("results")) {
            assertThat(result.get("status").asText()).isIn("accepted", "duplicate", "rejected");
            if (result.get("status").asText().equals("rejected")) {
              assertThat(result.get("field").asText()).isNotEmpty();
              assertThat(result.get("reason").asText()).isNotEmpty();
            }
          }
        }
      }
      // The mix must reach the interesting paths, not only one of them.
      assertThat(byStatus[200]).isPositive();
      assertThat(byStatus[400]).isPositive();
      assertThat(byStatus[401]).isPositive();
      assertThat(byStatus[415]).isPositive();
    }
  }

  /**
   * 400 requests with fuzzed headers over good and bad bodies: no, one, two or a mangled
   * Authorization (an operator's key too); Content-Encoding gzip on gzip and on plain bodies,
   * twice, unknown; odd Content-Types; a header of up to 64 KiB (past Jetty's limit: 431). Every
   * answer is a 2xx or 4xx whose body is a JSON object, never HTML, and no request is a 5xx.
   */
  @Test
  void fuzzedHeadersGetNo5xxAndNeverHtml() throws Exception {
    Random random = new Random(SEED + 2);
    String[] authorizations = {
      null,
      "Bearer " + IngestFixture.KEY,
      "Bearer " + IngestFixture.KEY,
      "bearer   " + IngestFixture.KEY + "  ",
      "Basic dGVzdA==",
      "Bearer",
      "Bearer " + "k".repeat(5000),
      "Bearer ops-key",
      "Bearer \u00e9t\u00e9"
    };
    String[] encodings = {null, "gzip", "identity", "br", "gzip, gzip", "GZIP", "x-zip;;"};
    String[] types = {
      "application/json",
      "application/x-ndjson",
      "application/json;charset=UTF-8",
      "application/json; charset=latin1",
      "*/*",
      "multipart/form-data; boundary=x",
      ";;;",
      null
    };
    try (IngestFixture fixture = IngestFixture.start()) {
      IngestServer server =
          fixture.serverWithKeys(
              IngestConfig.defaults(), "acme=" + IngestFixture.KEY + ",*=ops-key");
      int[] byStatus = new int[600];
      for (int i = 0; i < 400; i++) {
        String body =
            random.nextInt(4) == 0
                ? "{\"event_id\": " + i + "}"
                : FORM.print(
                    FeedbackEvent.newBuilder(
                            Examples.oneOfEachPayload(
                                    IngestFixture.TENANT,
                                    "hd-" + i,
                                    Instant.ofEpochMilli(1_790_000_000_000L + i))
                                .get(0))
                        .setEventId("hd-" + i)
                        .build());
        byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String encoding = encodings[random.nextInt(encodings.length)];
        if (encoding != null && encoding.equalsIgnoreCase("gzip") && random.nextBoolean()) {
          var out = new java.io.ByteArrayOutputStream();
          try (var gz = new java.util.zip.GZIPOutputStream(out)) {
            gz.write(bytes);
          }
          bytes = out.toByteArray();
        }
        java.net.http.HttpRequest.Builder request =
            java.net.http.HttpRequest.newBuilder(server.uri().resolve("/v1/events"))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(bytes));
        String type = types[random.nextInt(types.length)];
        if (type != null) {
          request.header("Content-Type", type);
        }
        if (encoding != null) {
          request.header("Content-Encoding", encoding);
        }
        int copies = random.nextInt(10) == 0 ? 2 : 1;
        for (int c = 0; c < copies; c++) {
          String auth = authorizations[random.nextInt(authorizations.length)];
          if (auth != null) {
            request.header("Authorization", auth);
          }
        }
        if (random.nextInt(15) == 0) {
          request.header("X-Padding", "p".repeat(1024 * (1 + random.nextInt(64))));
        }
        HttpResponse<String> response;
        try {
          response = fixture.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
          // Jetty may close a connection whose headers it will not read; that is no 5xx.
          byStatus[0]++;
          continue;
        }
        int status = response.statusCode();
        byStatus[status]++;
        assertThat(status).as("request %d", i).isBetween(200, 499);
        assertThat(response.headers().firstValue("Content-Type").orElse(""))
            .as("request %d: %s", i, response.body())
            .startsWith("application/json");
        assertThat(IngestFixture.json(response).isObject()).isTrue();
      }
      System.out.printf(
          "header fuzz: %s%n",
          java.util.stream.IntStream.range(0, 600)
              .filter(st -> byStatus[st] > 0)
              .mapToObj(st -> (st == 0 ? "closed" : Integer.toString(st)) + "=" + byStatus[st])
              .toList());
      assertThat(byStatus[200]).isPositive();
      assertThat(byStatus[401]).isPositive();
      assertThat(byStatus[403]).isPositive();
      assertThat(byStatus[415]).isPositive();
      assertThat(byStatus[431]).isPositive();
    }
  }

  /** Ill-formed UTF-8: overlong (three), a surrogate, past U+10FFFF, never a byte, stray, cut. */
  private static final int[][] ILL_FORMED = {
    {0xC0, 0xAF}, {0xE0, 0x80, 0xAF}, {0xF0, 0x80, 0x80, 0xAF}, {0xED, 0xA0, 0x80},
    {0xF4, 0x90, 0x80, 0x80}, {0xFF}, {0x80}, {0xE2, 0x82}
  };

  /**
   * Each of 200 events is sent first with an ill-formed sequence in place of the '/' of its id (an
   * overlong C0 AF is what Jackson alone would decode to that very '/') or inside its interaction
   * id, then well-formed: the first is refused naming the field, the second accepted, never
   * answered duplicate; Kafka then holds exactly the 200 well-formed ids, once each.
   */
  @Test
  void illFormedUtf8IsRefusedByFieldAndNeverCollapsesDistinctIds() throws Exception {
    Random random = new Random(SEED + 1);
    try (IngestFixture fixture = IngestFixture.start()) {
      IngestServer server = fixture.server();
      java.util.Set<String> sent = new java.util.HashSet<>();
      for (int i = 0; i < 200; i++) {
        List<FeedbackEvent> events =
            Examples.oneOfEachPayload(
                IngestFixture.TENANT, "utf-" + i, Instant.ofEpochMilli(1_790_000_000_000L + i));
        FeedbackEvent event =
            FeedbackEvent.newBuilder(events.get(random.nextInt(events.size())))
                .setEventId("utf-" + i + "/1")
                .build();
        String text = FORM.print(event);
        boolean inId = random.nextBoolean();
        int at =
            inId
                ? text.indexOf("/1\"")
                : text.indexOf("utf-" + i + "\"", text.indexOf("interaction_id"));
        int[] bad = ILL_FORMED[random.nextInt(ILL_FORMED.length)];
        byte[] illFormed = splice(text, at, inId ? 1 : 0, bad);
        boolean ndjson = random.nextBoolean();
        String type = ndjson ? "application/x-ndjson" : "application/json";

        HttpResponse<String> refused = fixture.post(server, type, illFormed, IngestFixture.KEY);
        JsonNode answer = IngestFixture.json(refused);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
        JsonNode error = ndjson ? answer.at("/results/0") : answer;
        assertThat(error.get("error").asText()).as(refused.body()).isEqualTo("invalid_utf8");
        assertThat(error.get("field").asText())
            .as(refused.body())
            .isEqualTo(inId ? "event_id" : "interaction_id");

        HttpResponse<String> accepted =
            fixture.post(server, type, text.getBytes(StandardCharsets.UTF_8), IngestFixture.KEY);
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(200);
        assertThat(IngestFixture.json(accepted).get("accepted").asInt())
            .as(accepted.body())
            .isEqualTo(1);
        sent.add(event.getEventId());
      }
      List<String> ids = fixture.feedback().stream().map(FeedbackEvent::getEventId).toList();
      assertThat(ids).hasSize(200).doesNotHaveDuplicates();
      assertThat(new java.util.HashSet<>(ids)).isEqualTo(sent);
      assertThat(fixture.deadLetters())
          .hasSize(200)
          .allSatisfy(d -> assertThat(d.getReason()).startsWith("invalid_utf8: "));
    }
  }

  /** {@code text} in UTF-8 with {@code replaced} chars at {@code at} replaced by {@code bad}. */
  private static byte[] splice(String text, int at, int replaced, int[] bad) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.writeBytes(text.substring(0, at).getBytes(StandardCharsets.UTF_8));
    for (int b : bad) {
      out.write(b);
    }
    out.writeBytes(text.substring(at + replaced).getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  private static String abbreviate(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }

  private static String body(Random random, int i, boolean ndjson) {
    List<FeedbackEvent> events =
        Examples.oneOfEachPayload(
            IngestFixture.TENANT, "fz-" + i, Instant.ofEpochMilli(1_790_000_000_000L + i));
    List<ObjectNode> nodes = new ArrayList<>();
    int n = 1 + random.nextInt(events.size());
    for (int k = 0; k < n; k++) {
      ObjectNode node = FORM.toJson(events.get(random.nextInt(events.size())));
      int mutations = random.nextInt(4);
      for (int m = 0; m < mutations; m++) {
        mutate(random, node);
      }
      nodes.add(node);
    }
    String text;
    if (ndjson) {
      StringBuilder sb = new StringBuilder();
      nodes.forEach(node -> sb.append(node).append('\n'));
      text = sb.toString();
    } else if (nodes.size() == 1 && random.nextBoolean()) {
      text = nodes.get(0).toString();
    } else {
      ArrayNode array = JsonForm.mapper().createArrayNode();
      nodes.forEach(array::add);
      text = array.toString();
    }
    return switch (random.nextInt(12)) {
      case 0 -> text.substring(0, random.nextInt(text.length() + 1)); // truncated
      case 1 -> flipBytes(random, text);
      case 2 -> text + "}";
      case 3 -> "[" + "[".repeat(random.nextInt(3000)) + "]";
      case 4 -> random.nextBoolean() ? "" : "null";
      default -> text;
    };
  }

  private static String flipBytes(Random random, String text) {
    char[] chars = text.toCharArray();
    for (int k = 0; k < 1 + random.nextInt(5) && chars.length > 0; k++) {
      chars[random.nextInt(chars.length)] = (char) random.nextInt(0x3000);
    }
    return new String(chars);
  }

  private static void mutate(Random random, ObjectNode node) {
    List<ObjectNode> objects = new ArrayList<>();
    collect(node, objects);
    ObjectNode target = objects.get(random.nextInt(objects.size()));
    List<String> fields = new ArrayList<>();
    Iterator<String> names = target.fieldNames();
    names.forEachRemaining(fields::add);
    if (fields.isEmpty()) {
      return;
    }
    String field = fields.get(random.nextInt(fields.size()));
    switch (random.nextInt(5)) {
      case 0 -> target.remove(field);
      case 1 -> target.set("unexpected_" + random.nextInt(3), target.get(field));
      case 2 ->
          target.set(
              field, JsonForm.mapper().valueToTree(ODD_VALUES[random.nextInt(ODD_VALUES.length)]));
      case 3 -> target.put(field, random.nextGaussian() * 1e3);
      default -> {
        if (target == node) {
          node.set(random.nextBoolean() ? "thumb" : "rating", JsonForm.mapper().createObjectNode());
        } else {
          target.put(field, "tenant-" + random.nextInt(2));
        }
      }
    }
  }

  private static void collect(JsonNode node, List<ObjectNode> out) {
    if (node instanceof ObjectNode object) {
      out.add(object);
      object.elements().forEachRemaining(child -> collect(child, out));
    } else if (node instanceof ArrayNode array) {
      array.elements().forEachRemaining(child -> collect(child, out));
    }
  }
}
