package io.prefstream.scorer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.prefstream.http.RequestError;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ScoreRequestTest {

  private final ScorerConfig config =
      ScorerConfig.from(
          io.prefstream.config.Settings.of(
              java.util.Map.of("scorer.max-responses", "3", "scorer.max-chars", "10")));

  @Test
  void aValidRequestParses() {
    ScoreRequest r =
        parse("{\"prompt\":\"p\",\"responses\":[\"a\",\"b\"],\"user_id\":\"u\",\"model\":\"m\"}");
    assertThat(r.responses()).containsExactly("a", "b");
    assertThat(r.stickyKey()).isEqualTo("user:u");
    assertThat(r.model()).isEqualTo("m");
    assertThat(parse("{\"prompt\":\"\",\"responses\":[\"a\"],\"session_id\":\"s\"}").stickyKey())
        .isEqualTo("session:s");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "not json|invalid_json|",
        "[1]|invalid_request|",
        "{\"responses\":[\"a\"]}|missing_field|prompt",
        "{\"prompt\":1,\"responses\":[\"a\"]}|invalid_field|prompt",
        "{\"prompt\":\"p\"}|missing_field|responses",
        "{\"prompt\":\"p\",\"responses\":\"a\"}|invalid_field|responses",
        "{\"prompt\":\"p\",\"responses\":[]}|invalid_field|responses",
        "{\"prompt\":\"p\",\"responses\":[\"a\",\"b\",\"c\",\"d\"]}|too_many_responses|responses",
        "{\"prompt\":\"p\",\"responses\":[\"a\",\" \"]}|invalid_field|responses[1]",
        "{\"prompt\":\"p\",\"responses\":[\"a\",2]}|invalid_field|responses[1]",
        "{\"prompt\":\"p\",\"responses\":[\"01234567890\"]}|too_long|responses[0]",
        "{\"prompt\":\"01234567890\",\"responses\":[\"a\"]}|too_long|prompt",
        "{\"prompt\":\"p\",\"responses\":[\"a\"],\"temperature\":1}|unknown_field|temperature",
        "{\"prompt\":\"p\",\"responses\":[\"a\"],\"user_id\":7}|invalid_field|user_id",
      })
  void badRequestsNameTheirField(String body, String error, String field) {
    RequestError e = catchThrowableOfType(RequestError.class, () -> parse(body));
    assertThat(e.status()).isEqualTo(400);
    assertThat(e.error()).isEqualTo(error);
    assertThat(e.field()).isEqualTo(field);
    assertThat(e.getMessage()).isNotBlank();
  }

  @Test
  void illFormedUtf8IsRefusedNamingTheResponseItStandsIn() {
    byte[] start = "{\"prompt\":\"p\",\"responses\":[\"a\",\"b".getBytes(StandardCharsets.UTF_8);
    byte[] body = java.util.Arrays.copyOf(start, start.length + 7);
    byte[] tail = {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80, '"', ']', '}'};
    System.arraycopy(tail, 0, body, start.length, tail.length);

    RequestError e =
        catchThrowableOfType(RequestError.class, () -> ScoreRequest.parse(body, config));

    assertThat(e.status()).isEqualTo(400);
    assertThat(e.error()).isEqualTo("invalid_utf8");
    assertThat(e.field()).isEqualTo("responses[1]");
    assertThat(e.getMessage()).contains("F4 90 80 80");
  }

  private ScoreRequest parse(String body) {
    return ScoreRequest.parse(body.getBytes(StandardCharsets.UTF_8), config);
  }
}
