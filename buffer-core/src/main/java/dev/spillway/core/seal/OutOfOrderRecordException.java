package dev.spillway.core.seal;

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
  public Reason reason() {
    return Reason.OUT_OF_ORDER;
  }
}
