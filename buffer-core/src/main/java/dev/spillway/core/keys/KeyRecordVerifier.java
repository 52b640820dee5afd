package dev.spillway.core.keys;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.PublicKeyVerify;
import com.google.crypto.tink.RegistryConfiguration;
import java.security.GeneralSecurityException;
import java.util.Objects;

/**
 * The reader's check of key-record signatures: the public half(s) of the writer's signing key
 * ({@code verifier.json}). After a rotation it holds every public key ever used, so key records
 * signed before the rotation still verify. Thread-safe.
 */
public final class KeyRecordVerifier {
  private final PublicKeyVerify verify;
  private final KeysetHandle publicKeyset;

  KeyRecordVerifier(KeysetHandle publicKeyset) throws GeneralSecurityException {
    LocalKeys.registerTink();
    this.publicKeyset = publicKeyset;
    this.verify = publicKeyset.getPrimitive(RegistryConfiguration.get(), PublicKeyVerify.class);
  }

  /** The verifier for {@code signer}'s key; for tests and embedded single-process use. */
  public static KeyRecordVerifier of(KeyRecordSigner signer) {
    Objects.requireNonNull(signer, "signer");
    return signer.verifier();
  }

  /** Whether {@code signature} is a valid signature of {@code statement} by one of the keys. */
  public boolean verifies(byte[] signature, byte[] statement) {
    try {
      verify.verify(signature, statement);
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  KeysetHandle publicKeyset() {
    return publicKeyset;
  }

  @Override
  public String toString() {
    return "KeyRecordVerifier[" + publicKeyset.size() + " ed25519 key(s)]";
  }
}
