package dev.spillway.core.internal.seal;

import dev.spillway.core.QuarantineReason;

/** The bytes are not a well-formed Spillway envelope (wrong magic, truncated, bad lengths). */
public final class EnvelopeFormatException extends EnvelopeException {
  private static final long serialVersionUID = 1L;

  public EnvelopeFormatException(String message) {
    super(message);
  }

  public EnvelopeFormatException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public QuarantineReason reason() {
    return QuarantineReason.MALFORMED;
  }
}
