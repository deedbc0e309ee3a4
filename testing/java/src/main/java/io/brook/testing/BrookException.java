package io.brook.testing;

/** The broker could not be found, started or stopped, or its control API refused a call. */
public class BrookException extends RuntimeException {
  public BrookException(String message) {
    super(message);
  }

  public BrookException(String message, Throwable cause) {
    super(message, cause);
  }
}
