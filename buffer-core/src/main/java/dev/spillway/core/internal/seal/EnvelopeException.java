package dev.spillway.core.internal.seal;

import dev.spillway.core.QuarantineReason;

/**
 * A spilled record cannot be opened, for a reason that retrying will not fix. The spill reader
 * quarantines the record with {@link #reason()} and moves on. Messages never contain payload or
 * key bytes.
 */
public abstract sealed class EnvelopeException extends Exception
    permits EnvelopeFormatException,
        UnsupportedEnvelopeVersionException,
        EnvelopeIntegrityException,
        UnknownEpochException,
        OutOfOrderRecordException,
        KeyRecordSignatureException {
  private static final long serialVersionUID = 1L;

  EnvelopeException(String message) {
    super(message);
  }

  EnvelopeException(String message, Throwable cause) {
    super(message, cause);
  }

  public abstract QuarantineReason reason();
}
