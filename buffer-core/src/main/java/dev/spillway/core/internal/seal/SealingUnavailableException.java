package dev.spillway.core.internal.seal;

/**
 * No data key can be had right now (the key provider is down or throttling and the current
 * epoch's limits are spent), so nothing can be sealed. Fail closed: the batch is refused with
 * back-pressure, never written in plaintext. Transient.
 */
public final class SealingUnavailableException extends Exception {
  private static final long serialVersionUID = 1L;

  public SealingUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
