package io.prefstream.scorer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.http.RequestError;
import io.prefstream.schemas.FieldError;
import io.prefstream.schemas.JsonForm;
import io.prefstream.schemas.StrictUtf8;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A parsed, validated {@code /v1/score} or {@code /v1/rank} body: {@code {prompt, responses[],
 * model?, user_id?, session_id?, request_id?}}. Anything else is refused with the field named.
 */
record ScoreRequest(
    String prompt,
    List<String> responses,
    String model,
    String userId,
    String sessionId,
    String requestId) {

  private static final Set<String> FIELDS =
      Set.of("prompt", "responses", "model", "user_id", "session_id", "request_id");

  /** The user or session that keeps its arm across requests, or null. */
  String stickyKey() {
    return userId != null ? "user:" + userId : sessionId != null ? "session:" + sessionId : null;
  }

  static ScoreRequest parse(byte[] body, ScorerConfig config) {
    FieldError encoding = StrictUtf8.check(body);
    if (encoding != null) {
      // Jackson would decode some ill-formed sequences to other text: two different bodies, one
      // prompt.
      throw new RequestError(400, "invalid_utf8", encoding.field(), encoding.reason());
    }
    JsonNode root;
    try {
      root = JsonForm.mapper().readTree(body);
    } catch (IOException e) {
      throw new RequestError(
          400, "invalid_json", null, "the body is not JSON: " + firstLine(e.getMessage()));
    }
    if (root == null || !root.isObject()) {
      throw new RequestError(
          400, "invalid_request", null, "the body must be a JSON object {prompt, responses}");
    }
    ObjectNode o = (ObjectNode) root;
    for (Iterator<String> names = o.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!FIELDS.contains(name)) {
        throw new RequestError(
            400, "unknown_field", name, "unknown field '" + name + "'; known: " + FIELDS);
      }
    }
    String prompt = text(o, "prompt", true, config.maxChars());
    JsonNode list = o.get("responses");
    if (list == null || list.isNull()) {
      throw new RequestError(400, "missing_field", "responses", "'responses' is required");
    }
    if (!list.isArray()) {
      throw new RequestError(
          400, "invalid_field", "responses", "'responses' must be an array of strings");
    }
    if (list.isEmpty()) {
      throw new RequestError(
          400, "invalid_field", "responses", "'responses' is empty: give at least one response");
    }
    if (list.size() > config.maxResponses()) {
      throw new RequestError(
          400,
          "too_many_responses",
          "responses",
          "'responses' has " + list.size() + " items; at most " + config.maxResponses());
    }
    List<String> responses = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      String field = "responses[" + i + "]";
      JsonNode r = list.get(i);
      if (!r.isTextual()) {
        throw new RequestError(400, "invalid_field", field, "'" + field + "' must be a string");
      }
      String text = r.asText();
      if (text.isBlank()) {
        throw new RequestError(400, "invalid_field", field, "'" + field + "' is empty");
      }
      if (text.length() > config.maxChars()) {
        throw new RequestError(
            400,
            "too_long",
            field,
            "'" + field + "' has " + text.length() + " characters; at most " + config.maxChars());
      }
      responses.add(text);
    }
    return new ScoreRequest(
        prompt,
        List.copyOf(responses),
        text(o, "model", false, 200),
        text(o, "user_id", false, 1000),
        text(o, "session_id", false, 1000),
        text(o, "request_id", false, 1000));
  }

  private static String text(ObjectNode o, String field, boolean required, int maxChars) {
    JsonNode n = o.get(field);
    if (n == null || n.isNull()) {
      if (required) {
        throw new RequestError(400, "missing_field", field, "'" + field + "' is required");
      }
      return null;
    }
    if (!n.isTextual()) {
      throw new RequestError(400, "invalid_field", field, "'" + field + "' must be a string");
    }
    String text = n.asText();
    if (text.length() > maxChars) {
      throw new RequestError(
          400,
          "too_long",
          field,
          "'" + field + "' has " + text.length() + " characters; at most " + maxChars);
    }
    return text;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
