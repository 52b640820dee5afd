package dev.spillway.core.seal;

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
  public Reason reason() {
    return Reason.UNSUPPORTED_VERSION;
  }
}
