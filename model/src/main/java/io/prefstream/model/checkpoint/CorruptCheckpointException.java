package io.prefstream.model.checkpoint;

import java.io.IOException;

/**
 * A checkpoint whose files do not match its manifest's digests, or whose manifest is unreadable.
 */
public final class CorruptCheckpointException extends IOException {

  public CorruptCheckpointException(String message) {
    super(message);
  }

  public CorruptCheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
