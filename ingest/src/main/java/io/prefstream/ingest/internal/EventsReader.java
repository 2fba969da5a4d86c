package io.prefstream.ingest.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.prefstream.http.Bodies;
import io.prefstream.http.RequestError;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.schemas.FieldError;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.StrictUtf8;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reading a {@code POST /v1/events} request: its media type, its body bounded by the configured
 * limit, and its events (one JSON object, a JSON array of them, or NDJSON lines), each as JSON or
 * with why it could not be read. Text must be well-formed UTF-8 ({@link StrictUtf8}): an ill-formed
 * line is an unreadable event, an ill-formed JSON body is refused naming the field. It writes
 * nothing: request-level refusals are {@link RequestError}s, and a body that is not JSON at all is
 * a {@link MalformedBody} that the caller dead-letters.
 */
final class EventsReader {

  static final String JSON = "application/json";
  static final String NDJSON = "application/x-ndjson";

  private static final ObjectReader READER =
      JsonForm.mapper().reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /** One event of a request, as read: its JSON, its raw bytes, or why it could not be read. */
  record Incoming(int index, JsonNode node, byte[] raw, FieldError unreadable) {

    /** The event id it names, when it names one as text. */
    String eventId() {
      JsonNode id = node == null ? null : node.get("event_id");
      return id != null && id.isTextual() ? id.asText() : null;
    }
  }

  /**
   * A JSON body that is not well-formed UTF-8 or does not parse: the request is refused with its
   * error (the field it names, or {@code $}), its bytes go to the dead letters.
   */
  static final class MalformedBody extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient byte[] body;
    private final transient FieldError error;

    MalformedBody(byte[] body, FieldError error) {
      super(error.reason(), null, false, false);
      this.body = body;
      this.error = error;
    }

    byte[] body() {
      return body;
    }

    FieldError error() {
      return error;
    }
  }

  private final long maxBodyBytes;
  private final int maxEvents;

  EventsReader(IngestConfig config) {
    this.maxBodyBytes = config.maxBodyBytes();
    this.maxEvents = config.maxEvents();
  }

  /** True for NDJSON, false for JSON; anything else is 415. */
  static boolean ndjson(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      throw new RequestError(
          415, "unsupported_media_type", "Content-Type", "missing; send " + JSON + " or " + NDJSON);
    }
    String[] parts = contentType.split(";", -1); // ";;;" keeps its empty type: a 415, not a crash
    String type = parts[0].strip().toLowerCase(Locale.ROOT);
    for (int i = 1; i < parts.length; i++) {
      String param = parts[i].strip().toLowerCase(Locale.ROOT);
      if (param.startsWith("charset=") && !param.substring(8).replace("\"", "").equals("utf-8")) {
        throw new RequestError(
            415, "unsupported_media_type", "Content-Type", "only charset=utf-8 is accepted");
      }
    }
    return switch (type) {
      case JSON -> false;
      case NDJSON, "application/jsonl", "application/ndjson" -> true;
      default ->
          throw new RequestError(
              415,
              "unsupported_media_type",
              "Content-Type",
              "'" + type + "' is not accepted; send " + JSON + " or " + NDJSON);
    };
  }

  /**
   * The body, decoded by its Content-Encoding ({@code identity} when absent, or {@code gzip}),
   * refused with 413 past the limit (by its Content-Length, or as it is read or inflated: the limit
   * holds for the inflated bytes, so a small gzip bomb is refused like a large body). Another
   * encoding is 415, and a body that is not what its encoding says is 400, naming the header.
   */
  byte[] read(long contentLength, String contentEncoding, InputStream body) {
    boolean gzip = gzip(contentEncoding);
    InputStream in = body;
    if (gzip) {
      try {
        in = new GZIPInputStream(body, 8192);
      } catch (IOException e) {
        throw notGzip(e);
      }
    }
    return Bodies.readBounded(
        in,
        contentLength,
        maxBodyBytes,
        this::tooLarge,
        e ->
            gzip && e instanceof ZipException
                ? notGzip(e)
                : new RequestError(
                    400, "unreadable_body", "$", "the body could not be read: " + e));
  }

  /** True for gzip, false for identity (or none); anything else is 415. */
  private static boolean gzip(String contentEncoding) {
    if (contentEncoding == null || contentEncoding.isBlank()) {
      return false;
    }
    String encoding = contentEncoding.strip().toLowerCase(Locale.ROOT);
    return switch (encoding) {
      case "identity" -> false;
      case "gzip", "x-gzip" -> true;
      default ->
          throw new RequestError(
              415,
              "unsupported_encoding",
              "Content-Encoding",
              "'" + encoding + "' is not accepted; send gzip or identity (or no Content-Encoding)");
    };
  }

  private static RequestError notGzip(IOException e) {
    return new RequestError(
        400,
        "invalid_encoding",
        "Content-Encoding",
        "the body is not gzip as Content-Encoding says (" + e.getMessage() + ")");
  }

  private RequestError tooLarge(long size) {
    return new RequestError(
        413,
        "body_too_large",
        "$",
        (size >= 0 ? size + " bytes" : "the body")
            + " exceeds the limit of "
            + maxBodyBytes
            + " bytes; split the batch");
  }

  /**
   * The body's events, at most the configured number per request (413 past it). An NDJSON line that
   * does not parse is one unreadable event beside the others; a JSON body that does not parse
   * refuses the request.
   */
  List<Incoming> events(byte[] body, boolean ndjson) throws MalformedBody {
    List<Incoming> events = ndjson ? splitNdjson(body) : splitJson(body);
    if (events.size() > maxEvents) {
      throw new RequestError(
          413,
          "too_many_events",
          "$",
          events.size() + " events; at most " + maxEvents + " per request");
    }
    return events;
  }

  private static List<Incoming> splitJson(byte[] body) throws MalformedBody {
    FieldError encoding = StrictUtf8.check(body);
    if (encoding != null) {
      throw new MalformedBody(body, encoding);
    }
    JsonNode root;
    try {
      root = READER.readTree(body);
    } catch (IOException e) {
      throw new MalformedBody(
          body, new FieldError("$", FieldError.Rule.MALFORMED_JSON, reasonOf(e)));
    }
    if (root == null || root.isMissingNode()) {
      throw new RequestError(400, "malformed_json", "$", "empty body");
    }
    if (root.isObject()) {
      return List.of(new Incoming(0, root, body, null));
    }
    if (!root.isArray()) {
      throw new RequestError(
          400, "wrong_type", "$", "expected an event object or an array of them");
    }
    if (root.isEmpty()) {
      throw new RequestError(400, "too_short", "$", "the array holds no events");
    }
    List<Incoming> events = new ArrayList<>(root.size());
    ArrayNode array = (ArrayNode) root;
    for (int i = 0; i < array.size(); i++) {
      events.add(new Incoming(i, array.get(i), null, null));
    }
    return events;
  }

  private List<Incoming> splitNdjson(byte[] body) {
    List<Incoming> events = new ArrayList<>();
    int start = 0;
    while (start < body.length) {
      int end = start;
      while (end < body.length && body[end] != '\n') {
        end++;
      }
      byte[] line =
          Arrays.copyOfRange(body, start, end > start && body[end - 1] == '\r' ? end - 1 : end);
      start = end + 1;
      if (isBlank(line)) {
        continue;
      }
      int index = events.size();
      if (index > maxEvents) {
        break; // enough to answer 413
      }
      FieldError encoding = StrictUtf8.check(line);
      if (encoding != null) {
        events.add(new Incoming(index, null, line, encoding));
        continue;
      }
      try {
        events.add(new Incoming(index, READER.readTree(line), line, null));
      } catch (IOException e) {
        events.add(
            new Incoming(
                index,
                null,
                line,
                new FieldError("$", FieldError.Rule.MALFORMED_JSON, reasonOf(e))));
      }
    }
    if (events.isEmpty()) {
      throw new RequestError(400, "too_short", "$", "the body holds no events");
    }
    return events;
  }

  private static String reasonOf(IOException e) {
    return e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.toString();
  }

  private static boolean isBlank(byte[] line) {
    for (byte b : line) {
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }
}
