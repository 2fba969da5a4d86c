package io.prefstream.service;

/**
 * A service started in this process (ingest, the pair builder, the trainer, the scorer, the
 * monitor): what it says once it serves, and how it stops. Its module's {@code main} and {@code
 * prefstream run SERVICE} start it by the same function, so a container and {@code run} start the
 * same thing.
 */
public interface Service extends AutoCloseable {

  /** What a {@code ready} line says of it, as {@code key=value} words (where it serves, ...). */
  String ready();

  /** Stops it cleanly (the trainer: with a last checkpoint); a second call does nothing. */
  @Override
  void close();
}
