package dev.spillway.core.seal;

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

  /** Why a record was refused; used as the quarantine reason and as a metric label. */
  public enum Reason {
    /** Not a Spillway record, truncated, or lengths that do not add up. */
    MALFORMED,
    /** Written by a newer format version than this reader knows. */
    UNSUPPORTED_VERSION,
    /** Authentication failed: tampered, moved to another queue or position, or wrong key. */
    INTEGRITY,
    /** No key record for the record's epoch, or the key provider refused the wrapped key. */
    KEY_REFUSED,
    /**
     * A sequence number at or below one already accepted from the same stream (also after a
     * restart, from the persisted {@link StreamWatermarks}), or an old record of a retired stream:
     * replayed or reordered.
     */
    OUT_OF_ORDER,
    /**
     * The epoch's key record has no valid writer signature: forged with the public key alone,
     * altered, or from another deployment or queue.
     */
    FORGED_KEY
  }

  EnvelopeException(String message) {
    super(message);
  }

  EnvelopeException(String message, Throwable cause) {
    super(message, cause);
  }

  public abstract Reason reason();
}
