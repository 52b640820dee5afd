package dev.spillway.core.internal.seal;

import dev.spillway.core.QuarantineReason;

/** AES-GCM authentication failed: the record was altered, moved to another queue, position or epoch, or sealed under another key. */
public final class EnvelopeIntegrityException extends EnvelopeException {
  private static final long serialVersionUID = 1L;

  public EnvelopeIntegrityException(String message) {
    super(message);
  }

  public EnvelopeIntegrityException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public QuarantineReason reason() {
    return QuarantineReason.INTEGRITY;
  }
}
