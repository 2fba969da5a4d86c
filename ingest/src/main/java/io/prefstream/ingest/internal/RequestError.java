package io.prefstream.ingest.internal;

/**
 * A request refused as a whole, answered with {@code status} and a JSON body {@code {error, field,
 * reason}}; {@code retryAfterSeconds} &gt; 0 adds a Retry-After header.
 */
public final class RequestError extends RuntimeException {

  private final int status;
  private final String error;
  private final String field;
  private final long retryAfterSeconds;

  public RequestError(int status, String error, String field, String reason) {
    this(status, error, field, reason, 0);
  }

  public RequestError(int status, String error, String field, String reason, long retryAfter) {
    super(reason, null, false, false);
    this.status = status;
    this.error = error;
    this.field = field;
    this.retryAfterSeconds = retryAfter;
  }

  public int status() {
    return status;
  }

  public String error() {
    return error;
  }

  public String field() {
    return field;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
