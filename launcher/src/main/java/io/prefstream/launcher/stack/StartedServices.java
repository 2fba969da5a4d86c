package io.prefstream.launcher.stack;

import io.prefstream.service.ServiceException;
import java.util.ArrayList;
import java.util.List;

/**
 * What a stack has started, in order: closed newest first, each one even when one before it fails
 * to close; the first failure is thrown at the end, the others suppressed in it.
 */
final class StartedServices implements AutoCloseable {

  private record Entry(String name, AutoCloseable service) {}

  private final List<Entry> entries = new ArrayList<>();
  private boolean closed;

  /** Records {@code service} as the newest; returns it. */
  synchronized <T extends AutoCloseable> T add(String name, T service) {
    if (closed) {
      throw new IllegalStateException("the stack is closed; " + name + " cannot join it");
    }
    entries.add(new Entry(name, service));
    return service;
  }

  /** The names of what runs, oldest first. */
  synchronized List<String> names() {
    return entries.stream().map(Entry::name).toList();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    RuntimeException failure = null;
    for (int i = entries.size() - 1; i >= 0; i--) {
      Entry e = entries.get(i);
      try {
        e.service().close();
      } catch (Exception ex) {
        if (failure == null) {
          failure = new ServiceException("closing " + e.name() + ": " + ex.getMessage(), ex);
        } else {
          failure.addSuppressed(ex);
        }
      }
    }
    entries.clear();
    if (failure != null) {
      throw failure;
    }
  }
}
