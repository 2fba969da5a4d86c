package io.prefstream.scorer;

/** A checkpoint that must not be served: a digest differs, a file is missing, it cannot load. */
public final class CheckpointRefused extends Exception {

  private final String kind;

  CheckpointRefused(String kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  /** A short label for metrics: digest, unsupported, unreadable. */
  public String kind() {
    return kind;
  }
}
