package io.prefstream.schemas;

import java.util.List;
import java.util.stream.Collectors;

/** A JSON document that is not a valid record; {@link #errors()} names each offending field. */
public final class JsonFormException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String recordName;
  private final transient List<FieldError> errors;

  public JsonFormException(String recordName, List<FieldError> errors) {
    super(
        "Invalid "
            + recordName
            + ": "
            + errors.stream().map(FieldError::toString).collect(Collectors.joining("; ")));
    if (errors.isEmpty()) {
      throw new IllegalArgumentException("A JsonFormException needs at least one error");
    }
    this.recordName = recordName;
    this.errors = List.copyOf(errors);
  }

  public String recordName() {
    return recordName;
  }

  /** The errors found, in document order; never empty. */
  public List<FieldError> errors() {
    return errors;
  }

  /** The first error, the one to show when only one fits. */
  public FieldError first() {
    return errors.get(0);
  }
}
