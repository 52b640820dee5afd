package dev.spillway.core.internal.seal;

import dev.spillway.core.QuarantineReason;

/** The record's key epoch cannot be opened: no key record for it was seen, or the key provider refused its wrapped key for good. */
public final class UnknownEpochException extends EnvelopeException {
  private static final long serialVersionUID = 1L;

  public UnknownEpochException(String message) {
    super(message);
  }

  public UnknownEpochException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public QuarantineReason reason() {
    return QuarantineReason.KEY_REFUSED;
  }
}
