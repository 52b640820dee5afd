package dev.spillway.core.keys;

/**
 * A key provider refused a wrapped key for good: it was not wrapped for any key this reader holds,
 * it was tampered with, or it is bound to another context. The record that needs it is
 * quarantined; retrying will not help.
 */
public class KeyRefusedException extends Exception {
  private static final long serialVersionUID = 1L;

  public KeyRefusedException(String message, Throwable cause) {
    super(message, cause);
  }

  public KeyRefusedException(String message) {
    super(message);
  }
}
