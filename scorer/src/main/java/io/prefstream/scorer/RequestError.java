package io.prefstream.scorer;

/**
 * A request refused, answered with {@code status} and a JSON body {@code {error, field, reason}};
 * {@code retryAfterSeconds} &gt; 0 adds a Retry-After header.
 */
final class RequestError extends RuntimeException {

  private final int status;
  private final String error;
  private final String field;
  private final long retryAfterSeconds;

  RequestError(int status, String error, String field, String reason) {
    this(status, error, field, reason, 0);
  }

  RequestError(int status, String error, String field, String reason, long retryAfterSeconds) {
    super(reason, null, false, false);
    this.status = status;
    this.error = error;
    this.field = field;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  int status() {
    return status;
  }

  String error() {
    return error;
  }

  String field() {
    return field;
  }

  long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
