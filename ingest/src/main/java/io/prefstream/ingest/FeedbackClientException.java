package io.prefstream.ingest;

/** A request the client could not get answered: refused as a whole, or retries spent. */
public final class FeedbackClientException extends RuntimeException {

  private final int status;

  public FeedbackClientException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The last HTTP status, or -1 when the last attempt got no response. */
  public int status() {
    return status;
  }
}
