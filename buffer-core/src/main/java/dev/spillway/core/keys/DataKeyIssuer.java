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
}
