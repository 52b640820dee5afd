package dev.spillway.core.keys;

import java.util.Objects;

/**
 * A data key as the reader will find it on disk: wrapped (encrypted) by a key provider. Safe to
 * store and log; it reveals nothing without the reader's key.
 *
 * @param provider the provider that wrapped it
 * @param keyRef which key of that provider (a KMS key ARN, or the local keyset's key id); shown by
 *     {@code spill inspect} and used to route a record to the right reader key after rotation
 * @param ciphertext the wrapped key bytes
 */
public record WrappedDataKey(KeyProviderId provider, String keyRef, byte[] ciphertext) {
  /** Key references are written with a 16-bit length. */
  public static final int MAX_KEY_REF_BYTES = 1024;

  /** Wrapped keys are written with a 16-bit length. */
  public static final int MAX_CIPHERTEXT_BYTES = 65535;

  public WrappedDataKey {
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(keyRef, "keyRef");
    Objects.requireNonNull(ciphertext, "ciphertext");
    if (keyRef.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_KEY_REF_BYTES) {
      throw new IllegalArgumentException("key reference longer than " + MAX_KEY_REF_BYTES + " bytes");
    }
    if (ciphertext.length == 0 || ciphertext.length > MAX_CIPHERTEXT_BYTES) {
      throw new IllegalArgumentException(
          "wrapped key must be 1.." + MAX_CIPHERTEXT_BYTES + " bytes, got " + ciphertext.length);
    }
  }

  @Override
  public String toString() {
    return "WrappedDataKey[" + provider.configName() + ", " + keyRef + ", " + ciphertext.length + " bytes]";
  }
}
