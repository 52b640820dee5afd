package dev.spillway.core.keys;

/**
 * The write side's key capability: create a fresh data key and wrap it for the reader. An issuer
 * can never unwrap, so a process that holds only an issuer cannot read the spill, not even what it
 * wrote once the epoch's plaintext key is gone from its memory.
 *
 * <p>Called once per key epoch, never per record. Implementations must be thread-safe.
 */
public interface DataKeyIssuer {
  /** The provider this issuer belongs to. */
  KeyProviderId provider();

  /**
   * Creates a new AES-256 data key bound to {@code context}.
   *
   * @throws KeyUnavailableException when the provider cannot answer now
   */
  IssuedDataKey issue(KeyContext context) throws KeyUnavailableException;

  /**
   * The key that signs this writer's key records, or null when they go unsigned. Records of the
   * {@code local} and {@code aws-kms-rsa} providers must be signed (their wrapping key is public,
   * so anyone could wrap a key of their own); a {@code Sealer} refuses such an issuer without one.
   * An issuer that decorates another must forward this.
   */
  default KeyRecordSigner signer() {
    return null;
  }

  /** This issuer, with its key records signed by {@code signer}. */
  default DataKeyIssuer signedBy(KeyRecordSigner signer) {
    return new SignedIssuer(this, signer);
  }
}
