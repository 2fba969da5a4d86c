package io.prefstream.service;

/**
 * A service could not start for a reason a person can act on (a bad setting, a port in use): its
 * message is printed as one line, without a stack trace.
 */
public final class ServiceException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public ServiceException(String message) {
    super(message);
  }

  public ServiceException(String message, Throwable cause) {
    super(message, cause);
  }
}
