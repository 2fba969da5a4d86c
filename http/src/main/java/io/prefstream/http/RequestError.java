package io.prefstream.http;

/**
 * A request refused, answered with {@code status} and a JSON body {@code {error, field, reason}} by
 * {@link HttpErrors#answer}; {@code retryAfterSeconds} &gt; 0 adds a Retry-After header.
 */
public final class RequestError extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final int status;
  private final String error;
  private final String field;
  private final long retryAfterSeconds;

  /**
   * @param error a stable code clients can switch on ({@code unauthorized}, {@code not_found})
   * @param field the field, header or JSON path at fault, or null for the request as a whole
   * @param reason what is wrong, in words a person can act on
   */
  public RequestError(int status, String error, String field, String reason) {
    this(status, error, field, reason, 0);
  }

  public RequestError(
      int status, String error, String field, String reason, long retryAfterSeconds) {
    super(reason, null, false, false);
    this.status = status;
    this.error = error;
    this.field = field;
    this.retryAfterSeconds = retryAfterSeconds;
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
