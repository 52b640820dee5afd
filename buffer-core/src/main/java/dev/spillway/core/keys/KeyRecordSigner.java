package dev.spillway.core.keys;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.PublicKeySign;
import com.google.crypto.tink.RegistryConfiguration;
import java.security.GeneralSecurityException;
import java.util.Objects;

/**
 * The writer's signing key (Ed25519, a Tink private keyset held only by the ingest side): signs
 * every key record, so a reader accepts only data keys that a holder of this key wrapped. Holding
 * the public {@code writer.json} alone no longer lets anyone make records the drain accepts.
 *
 * <p>Thread-safe. Never printed: {@link #toString()} names the key id only.
 */
public final class KeyRecordSigner {
  private final PublicKeySign sign;
  private final KeysetHandle privateKeyset;

  KeyRecordSigner(KeysetHandle privateKeyset) throws GeneralSecurityException {
    LocalKeys.registerTink();
    this.privateKeyset = privateKeyset;
    this.sign = privateKeyset.getPrimitive(RegistryConfiguration.get(), PublicKeySign.class);
  }

  /** A fresh signing key held only in memory, for tests and embedded single-process use. */
  public static KeyRecordSigner generate() {
    try {
      return new KeyRecordSigner(KeysetHandle.generateNew(LocalKeys.SIGNATURE_PARAMETERS));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate an Ed25519 key", e);
    }
  }

  /** The verifying half of this key (every key of the keyset). */
  KeyRecordVerifier verifier() {
    try {
      return new KeyRecordVerifier(privateKeyset.getPublicKeysetHandle());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("an Ed25519 keyset without a public half", e);
    }
  }

  /** Signs {@code statement}: Tink's 5-byte key-id prefix, then the 64-byte Ed25519 signature. */
  public byte[] sign(byte[] statement) {
    Objects.requireNonNull(statement, "statement");
    try {
      return sign.sign(statement);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed", e);
    }
  }

  @Override
  public String toString() {
    return "KeyRecordSigner[ed25519 key " + Integer.toUnsignedString(privateKeyset.getPrimary().getId()) + "]";
  }
}
