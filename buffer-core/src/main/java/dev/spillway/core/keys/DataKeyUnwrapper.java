package dev.spillway.core.keys;

import java.util.List;

/**
 * The read side's key capability: unwrap a data key found on disk. Only the draining side holds
 * one. Implementations must be thread-safe.
 */
public interface DataKeyUnwrapper {
  /** Whether this unwrapper holds a key that may open {@code wrapped} (by provider and key ref). */
  boolean accepts(WrappedDataKey wrapped);

  /**
   * Unwraps a data key bound to {@code context}.
   *
   * @throws KeyUnavailableException the provider cannot answer now; keep the record, retry later
   * @throws KeyRefusedException the key can never be unwrapped here; quarantine the record
   */
  DataKey unwrap(WrappedDataKey wrapped, KeyContext context)
      throws KeyUnavailableException, KeyRefusedException;

  /**
   * The check of key-record signatures, or null when this reader has none. A reader without one
   * accepts only unsigned {@code aws-kms} key records (a KMS ciphertext cannot be made without KMS
   * permission); it refuses every {@code local} and {@code aws-kms-rsa} key record. An unwrapper
   * that decorates another must forward this (or its records are refused: fail closed).
   */
  default KeyRecordVerifier verifier() {
    return null;
  }

  /**
   * Whether a key record holding {@code wrapped} must carry a valid signature to be accepted:
   * always for keys wrapped with a public key ({@code local}, {@code aws-kms-rsa}), and for {@code
   * aws-kms} when this unwrapper was given a verifier. An unwrapper that decorates another must
   * forward this.
   */
  default boolean requiresSignature(WrappedDataKey wrapped) {
    return wrapped.provider() != KeyProviderId.AWS_KMS || verifier() != null;
  }

  /** This unwrapper, with key records checked by {@code verifier}. */
  default DataKeyUnwrapper verifiedBy(KeyRecordVerifier verifier) {
    return new VerifiedUnwrapper(this, verifier);
  }

  /**
   * Tries each unwrapper that {@link #accepts} the wrapped key, in order, so a reader can hold keys
   * from before and after a rotation (old CMKs, old local keysets).
   */
  static DataKeyUnwrapper anyOf(List<DataKeyUnwrapper> unwrappers) {
    return new AnyOfUnwrapper(List.copyOf(unwrappers));
  }
}
