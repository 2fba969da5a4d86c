package io.prefstream.schemas;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Strict UTF-8 at the entrances: Jackson decodes some ill-formed sequences without complaint (an
 * overlong {@code C0 AF} becomes {@code /}, a sequence past U+10FFFF a replacement), so two
 * different byte strings can become one id. The JDK's decoder, set to report, refuses every
 * ill-formed sequence of RFC 3629: overlong forms, surrogates, code points past U+10FFFF, stray
 * continuation bytes and truncated sequences. {@link #check} finds the first one and names the JSON
 * field it stands in.
 */
public final class StrictUtf8 {

  private StrictUtf8() {}

  /** The offset of the first ill-formed sequence in {@code bytes[from, to)}, or -1 if none. */
  public static int firstMalformed(byte[] bytes, int from, int to) {
    // Most input is ASCII: skip it without a decoder.
    int i = from;
    while (i < to && bytes[i] >= 0) {
      i++;
    }
    if (i == to) {
      return -1;
    }
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes, i, to - i);
    CharBuffer out = CharBuffer.allocate(Math.min(8192, to - i + 1));
    while (true) {
      CoderResult r = decoder.decode(in, out, true);
      if (r.isError()) {
        return in.position();
      }
      if (r.isUnderflow()) {
        r = decoder.flush(out);
        return r.isError() ? in.position() : -1;
      }
      out.clear(); // overflow: only errors matter here
    }
  }

  /**
   * Null when {@code json[from, to)} is well-formed UTF-8; else an error naming the JSON field the
   * first ill-formed sequence stands in ({@code prompt}, {@code exposure.response}, {@code
   * [2].event_id}; {@code $} outside any field) and where it is.
   */
  public static FieldError check(byte[] json, int from, int to) {
    int at = firstMalformed(json, from, to);
    if (at < 0) {
      return null;
    }
    StringBuilder bytes = new StringBuilder();
    for (int i = at; i < Math.min(to, at + 4); i++) {
      bytes.append(bytes.isEmpty() ? "" : " ").append(String.format("%02X", json[i] & 0xff));
    }
    return new FieldError(
        fieldAt(json, from, at),
        FieldError.Rule.INVALID_UTF8,
        "not well-formed UTF-8 at byte "
            + (at - from)
            + " ("
            + bytes
            + "...): overlong, surrogate, past U+10FFFF or truncated sequences are refused");
  }

  /** As {@link #check(byte[], int, int)} over the whole array. */
  public static FieldError check(byte[] json) {
    return check(json, 0, json.length);
  }

  /**
   * The field whose value holds byte {@code at}: the JSON before it (well-formed UTF-8) is read
   * token by token, and the path of the innermost open field is its name.
   */
  static String fieldAt(byte[] json, int from, int at) {
    String path = "$";
    try (JsonParser p = JsonForm.mapper().getFactory().createParser(json, from, at - from)) {
      while (p.nextToken() != null) {
        path = pathOf(p);
      }
    } catch (IOException e) {
      // The prefix ends inside the string that holds the byte: the path read so far is its field.
    }
    return path;
  }

  private static String pathOf(JsonParser p) {
    Deque<String> parts = new ArrayDeque<>();
    JsonStreamContext c = p.getParsingContext();
    // At a value's start the object context still names its field; an object just opened does not.
    if (p.currentToken() == JsonToken.START_OBJECT || p.currentToken() == JsonToken.START_ARRAY) {
      c = c.getParent();
    }
    for (; c != null && !c.inRoot(); c = c.getParent()) {
      if (c.inArray()) {
        parts.push("[" + Math.max(0, c.getCurrentIndex()) + "]");
      } else if (c.getCurrentName() != null) {
        parts.push(c.getCurrentName());
      }
    }
    if (parts.isEmpty()) {
      return "$";
    }
    StringBuilder s = new StringBuilder();
    for (String part : parts) {
      if (!s.isEmpty() && !part.startsWith("[")) {
        s.append('.');
      }
      s.append(part);
    }
    return s.toString();
  }
}
