package io.prefstream.schemas;

import java.util.Locale;

/**
 * One reason a JSON record was refused.
 *
 * @param field path of the offending field, e.g. {@code rating.value} or {@code
 *     ranking.response_ids[2]}; {@code $} for the whole document
 * @param rule the rule it broke
 * @param reason what was expected and what was found
 */
public record FieldError(String field, Rule rule, String reason) {

  /** The validation rules of the JSON form; {@link #code()} is what APIs report. */
  public enum Rule {
    MALFORMED_JSON,
    INVALID_UTF8,
    MISSING,
    WRONG_TYPE,
    INVALID_VALUE,
    OUT_OF_RANGE,
    TOO_LONG,
    TOO_SHORT,
    UNKNOWN_FIELD,
    UNKNOWN_PAYLOAD,
    TWO_PAYLOADS;

    public String code() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  @Override
  public String toString() {
    return field + ": " + rule.code() + ": " + reason;
  }
}
