package dev.spillway.core.internal.seal;

import dev.spillway.core.QuarantineReason;

/** The record's sequence number is at or below one already read from the same writer stream: a replayed or reordered record. */
public final class OutOfOrderRecordException extends EnvelopeException {
  private static final long serialVersionUID = 1L;

  public OutOfOrderRecordException(String message) {
    super(message);
  }

  public OutOfOrderRecordException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public QuarantineReason reason() {
    return QuarantineReason.OUT_OF_ORDER;
  }
}
