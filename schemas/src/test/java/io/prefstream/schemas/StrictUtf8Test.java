package io.prefstream.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Ill-formed UTF-8 is found, and named by the JSON field it stands in. */
class StrictUtf8Test {

  /** {@code before}, the raw bytes, then {@code after}. */
  private static byte[] json(String before, int[] raw, String after) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
    for (int b : raw) {
      out.write(b);
    }
    out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  @Test
  void wellFormedTextPassesWhateverItsScript() {
    byte[] ok = "{\"prompt\":\"héllo – 日本語 🙂\",\"n\":1}".getBytes(StandardCharsets.UTF_8);
    assertThat(StrictUtf8.firstMalformed(ok, 0, ok.length)).isEqualTo(-1);
    assertThat(StrictUtf8.check(ok)).isNull();
  }

  @Test
  void everyKindOfIllFormedSequenceIsFoundWhereItStarts() {
    int[][] bad = {
      {0xC0, 0xAF}, // overlong '/'
      {0xE0, 0x80, 0xAF}, // overlong '/' in three bytes
      {0xF0, 0x80, 0x80, 0xAF}, // overlong in four
      {0xED, 0xA0, 0x80}, // a UTF-16 surrogate
      {0xF4, 0x90, 0x80, 0x80}, // past U+10FFFF
      {0xF5, 0x80, 0x80, 0x80}, // never a lead byte
      {0x80}, // a stray continuation byte
      {0xE2, 0x82}, // truncated
    };
    for (int[] raw : bad) {
      byte[] b = json("{\"event_id\":\"e-", raw, "\"}");
      assertThat(StrictUtf8.firstMalformed(b, 0, b.length)).as("%s", raw).isEqualTo(15);
      FieldError e = StrictUtf8.check(b);
      assertThat(e.field()).isEqualTo("event_id");
      assertThat(e.rule().code()).isEqualTo("invalid_utf8");
      assertThat(e.reason()).contains("byte 15", String.format("%02X", raw[0]));
    }
  }

  @Test
  void theFieldIsNamedByItsPathInNestedObjectsAndArrays() {
    assertThat(
            StrictUtf8.check(
                    json("{\"exposure\":{\"response\":\"a", new int[] {0xC0, 0xAF}, "\"}}"))
                .field())
        .isEqualTo("exposure.response");
    assertThat(
            StrictUtf8.check(
                    json(
                        "[{\"event_id\":\"a\"},{\"event_id\":\"b\",\"ranking\":{\"response_ids\":[\"x\",\"",
                        new int[] {0xED, 0xA0, 0x80},
                        "\"]}}]"))
                .field())
        .isEqualTo("[1].ranking.response_ids[1]");
    assertThat(StrictUtf8.check(json("", new int[] {0xFF}, "{}")).field()).isEqualTo("$");
  }

  @Test
  void aRangeIsCheckedAloneWithOffsetsFromItsStart() {
    byte[] b = json("{\"a\":\"ok\"}\n{\"b\":\"", new int[] {0xC0, 0xAF}, "\"}");
    int line = 11;
    assertThat(StrictUtf8.check(b, 0, line - 1)).isNull();
    FieldError e = StrictUtf8.check(b, line, b.length);
    assertThat(e.field()).isEqualTo("b");
    assertThat(e.reason()).contains("byte 6");
  }
}
