package io.prefstream.local;

/** The local broker could not start; the message says why and what to do. */
public final class LocalKafkaException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public LocalKafkaException(String message, Throwable cause) {
    super(message, cause);
  }
}
