package dev.spillway.core.keys;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.PublicKeyVerify;
import com.google.crypto.tink.RegistryConfiguration;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The reader's check of key-record signatures: the public half(s) of the writer's signing key
 * ({@code verifier.json}). After a rotation it holds every public key ever used, so key records
 * signed before the rotation still verify. Thread-safe.
 */
public final class KeyRecordVerifier {
  private final List<PublicKeyVerify> verifiers;
  private final int keys;

  KeyRecordVerifier(KeysetHandle publicKeyset) throws GeneralSecurityException {
    LocalKeys.registerTink();
    this.verifiers = List.of(publicKeyset.getPrimitive(RegistryConfiguration.get(), PublicKeyVerify.class));
    this.keys = publicKeyset.size();
  }

  private KeyRecordVerifier(List<PublicKeyVerify> verifiers, int keys) {
    this.verifiers = List.copyOf(verifiers);
    this.keys = keys;
  }

  /**
   * A verifier that accepts what any of {@code verifiers} accepts: a reader that also drains the
   * spill of a deployment it replaced holds that deployment's verifying keys too.
   */
  public static KeyRecordVerifier anyOf(List<KeyRecordVerifier> verifiers) {
    if (verifiers.isEmpty()) {
      throw new IllegalArgumentException("at least one verifier is needed");
    }
    List<PublicKeyVerify> all = new ArrayList<>();
    int keys = 0;
    for (KeyRecordVerifier v : verifiers) {
      all.addAll(v.verifiers);
      keys += v.keys;
    }
    return new KeyRecordVerifier(all, keys);
  }

  /** The verifier for {@code signer}'s key; for tests and embedded single-process use. */
  public static KeyRecordVerifier of(KeyRecordSigner signer) {
    Objects.requireNonNull(signer, "signer");
    return signer.verifier();
  }

  /** Whether {@code signature} is a valid signature of {@code statement} by one of the keys. */
  public boolean verifies(byte[] signature, byte[] statement) {
    for (PublicKeyVerify v : verifiers) {
      try {
        v.verify(signature, statement);
        return true;
      } catch (GeneralSecurityException e) {
        // not this keyset's; try the next
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return "KeyRecordVerifier[" + keys + " ed25519 key(s)]";
  }
}
