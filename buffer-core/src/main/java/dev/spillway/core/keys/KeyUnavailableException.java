package dev.spillway.core.keys;

/**
 * A key provider could not answer now (unreachable, throttling, timed out). Transient: the caller
 * keeps the data where it is and tries again later. Never quarantine on this.
 */
public class KeyUnavailableException extends Exception {
  private static final long serialVersionUID = 1L;

  public KeyUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  public KeyUnavailableException(String message) {
    super(message);
  }
}
