package dev.spillway.core.internal.seal;

import dev.spillway.core.QuarantineReason;

/** The record was written by a newer format version than this reader understands. Upgrade the reader; the record is kept. */
public final class UnsupportedEnvelopeVersionException extends EnvelopeException {
  private static final long serialVersionUID = 1L;

  public UnsupportedEnvelopeVersionException(String message) {
    super(message);
  }

  public UnsupportedEnvelopeVersionException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public QuarantineReason reason() {
    return QuarantineReason.UNSUPPORTED_VERSION;
  }
}
