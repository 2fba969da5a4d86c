package io.prefstream.ingest.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.config.Settings;
import io.prefstream.http.RequestError;
import io.prefstream.ingest.IngestConfig;
import io.prefstream.ingest.internal.EventsReader.Incoming;
import io.prefstream.schemas.FieldError;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading {@code POST /v1/events} bodies: media types, limits, and the three shapes of a body. */
class EventsReaderTest {

  private final EventsReader reader =
      new EventsReader(
          IngestConfig.from(
              Settings.of(Map.of("ingest.max-events", "3", "ingest.max-body-bytes", "1024"))));

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static RequestError refusal(Runnable r) {
    try {
      r.run();
    } catch (RequestError e) {
      return e;
    }
    throw new AssertionError("not refused");
  }

  @Test
  void mediaTypesAreJsonOrNdjsonInUtf8AndAnythingElseIs415NamingTheHeader() {
    assertThat(EventsReader.ndjson("application/json")).isFalse();
    assertThat(EventsReader.ndjson("Application/JSON; charset=\"UTF-8\"")).isFalse();
    assertThat(EventsReader.ndjson("application/x-ndjson")).isTrue();
    assertThat(EventsReader.ndjson("application/jsonl")).isTrue();
    for (String refused :
        new String[] {null, " ", "text/plain", "application/json; charset=latin1", ";;;", ";"}) {
      RequestError e = refusal(() -> EventsReader.ndjson(refused));
      assertThat(e.status()).as(refused).isEqualTo(415);
      assertThat(e.error()).isEqualTo("unsupported_media_type");
      assertThat(e.field()).isEqualTo("Content-Type");
    }
  }

  @Test
  void aBodyPastTheLimitIs413ByItsContentLengthOrAsItIsRead() {
    byte[] big = new byte[1025];
    RequestError declared = refusal(() -> reader.read(1025, null, new ByteArrayInputStream(big)));
    RequestError streamed = refusal(() -> reader.read(-1, null, new ByteArrayInputStream(big)));
    assertThat(List.of(declared.status(), streamed.status())).containsOnly(413);
    assertThat(declared.error()).isEqualTo("body_too_large");
    assertThat(declared.getMessage()).contains("1025 bytes", "limit of 1024 bytes");
    assertThat(reader.read(2, null, new ByteArrayInputStream(bytes("{}")))).isEqualTo(bytes("{}"));
  }

  @Test
  void aJsonBodyIsOneEventOrAnArrayOfThemKeepingTheRawBytesOfASingleOne() throws Exception {
    List<Incoming> one = reader.events(bytes("{\"event_id\":\"e1\"}"), false);
    assertThat(one)
        .singleElement()
        .satisfies(
            in -> {
              assertThat(in.index()).isZero();
              assertThat(in.eventId()).isEqualTo("e1");
              assertThat(in.raw()).isEqualTo(bytes("{\"event_id\":\"e1\"}"));
            });
    List<Incoming> array = reader.events(bytes("[{\"event_id\":\"a\"},{\"event_id\":7}]"), false);
    assertThat(array).extracting(Incoming::index).containsExactly(0, 1);
    assertThat(array).extracting(Incoming::eventId).containsExactly("a", null);
  }

  @Test
  void aJsonBodyThatDoesNotParseIsMalformedAsAWholeAndOtherShapesAreRefusedByName() {
    assertThatThrownBy(() -> reader.events(bytes("{\"a\":1} trailing"), false))
        .isInstanceOf(EventsReader.MalformedBody.class)
        .satisfies(e -> assertThat(((EventsReader.MalformedBody) e).body()).hasSize(16));
    assertThat(refusal(() -> events("\"text\"", false)).error()).isEqualTo("wrong_type");
    assertThat(refusal(() -> events("[]", false)).error()).isEqualTo("too_short");
    assertThat(refusal(() -> events("[{},{},{},{}]", false)).error()).isEqualTo("too_many_events");
  }

  @Test
  void ndjsonLinesAreEventsSkippingBlankOnesAndABrokenLineIsOneUnreadableEvent() throws Exception {
    List<Incoming> lines = reader.events(bytes("{\"event_id\":\"a\"}\r\n\n  \n{oops\n{}"), true);
    assertThat(lines).extracting(Incoming::index).containsExactly(0, 1, 2);
    assertThat(lines.get(0).unreadable()).isNull();
    assertThat(lines.get(1).node()).isNull();
    assertThat(lines.get(1).raw()).isEqualTo(bytes("{oops"));
    assertThat(lines.get(1).unreadable().rule()).isEqualTo(FieldError.Rule.MALFORMED_JSON);
    assertThat(refusal(() -> events("\n \n", true)).error()).isEqualTo("too_short");
    assertThat(refusal(() -> events("{}\n{}\n{}\n{}\n{}", true)).status()).isEqualTo(413);
  }

  @Test
  void illFormedUtf8IsRefusedNamingItsFieldAsAWholeJsonBodyOrAsOneNdjsonLine() throws Exception {
    byte[] overlong = {
      '{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'
    };
    assertThatThrownBy(() -> reader.events(overlong, false))
        .isInstanceOfSatisfying(
            EventsReader.MalformedBody.class,
            e -> {
              assertThat(e.error().rule()).isEqualTo(FieldError.Rule.INVALID_UTF8);
              assertThat(e.error().field()).isEqualTo("prompt");
              assertThat(e.body()).isEqualTo(overlong);
            });

    byte[] lines = new byte[overlong.length + 3];
    System.arraycopy(bytes("{}\n"), 0, lines, 0, 3);
    System.arraycopy(overlong, 0, lines, 3, overlong.length);
    List<Incoming> read = reader.events(lines, true);
    assertThat(read.get(0).unreadable()).isNull();
    assertThat(read.get(1).unreadable().rule()).isEqualTo(FieldError.Rule.INVALID_UTF8);
    assertThat(read.get(1).unreadable().field()).isEqualTo("prompt");
    assertThat(read.get(1).raw()).isEqualTo(overlong);
  }

  private static byte[] gzip(byte[] plain) throws java.io.IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(out)) {
      z.write(plain);
    }
    return out.toByteArray();
  }

  @Test
  void aGzipBodyIsInflatedWithinTheLimitAndAPlainOneLabelledGzipIsRefusedByItsHeader()
      throws Exception {
    byte[] json = bytes("{\"event_id\":\"e1\"}");
    byte[] zipped = gzip(json);
    assertThat(reader.read(zipped.length, "gzip", new ByteArrayInputStream(zipped)))
        .isEqualTo(json);
    assertThat(reader.read(json.length, "identity", new ByteArrayInputStream(json)))
        .isEqualTo(json);

    RequestError plain =
        refusal(() -> reader.read(json.length, "gzip", new ByteArrayInputStream(json)));
    assertThat(plain.status()).isEqualTo(400);
    assertThat(plain.error()).isEqualTo("invalid_encoding");
    assertThat(plain.field()).isEqualTo("Content-Encoding");

    byte[] bomb = gzip(new byte[64 * 1024]); // about 100 bytes that inflate past the 1 KiB limit
    assertThat(bomb.length).isLessThan(1024);
    RequestError tooLarge =
        refusal(() -> reader.read(bomb.length, "gzip", new ByteArrayInputStream(bomb)));
    assertThat(tooLarge.status()).isEqualTo(413);

    RequestError br = refusal(() -> reader.read(json.length, "br", new ByteArrayInputStream(json)));
    assertThat(br.status()).isEqualTo(415);
    assertThat(br.field()).isEqualTo("Content-Encoding");
  }

  private List<Incoming> events(String body, boolean ndjson) {
    try {
      return reader.events(bytes(body), ndjson);
    } catch (EventsReader.MalformedBody e) {
      throw new AssertionError(e);
    }
  }
}
