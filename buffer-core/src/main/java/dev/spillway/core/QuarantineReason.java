package dev.spillway.core;

/**
 * Why a spilled record could not be opened and was quarantined; passed to
 * {@link BufferObserver#onQuarantine} and used as a metric label. Retrying does not fix any of them.
 *
 * <p>The ordinal is written to quarantine files: never reorder or remove a constant, only append.
 */
public enum QuarantineReason {
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
   * restart, from the persisted stream watermarks), or an old record of a retired stream:
   * replayed or reordered.
   */
  OUT_OF_ORDER,
  /**
   * The epoch's key record has no valid writer signature: forged with the public key alone,
   * altered, or from another deployment or queue.
   */
  FORGED_KEY
}
