package dev.spillway.core.keys;

import com.google.crypto.tink.HybridEncrypt;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

/** Writer half of the local provider: HPKE-wraps fresh random data keys with a public keyset. */
final class LocalHpkeIssuer implements DataKeyIssuer {
  private final HybridEncrypt encrypt;
  private final String keyRef;
  private final SecureRandom random = new SecureRandom();

  LocalHpkeIssuer(KeysetHandle publicKeyset) throws java.io.IOException {
    try {
      this.encrypt = publicKeyset.getPrimitive(RegistryConfiguration.get(), HybridEncrypt.class);
      this.keyRef = LocalHpkeUnwrapper.keyRef(publicKeyset.getPrimary().getId());
    } catch (GeneralSecurityException e) {
      throw new java.io.IOException("the writer keyset cannot encrypt", e);
    }
  }

  @Override
  public KeyProviderId provider() {
    return KeyProviderId.LOCAL_HPKE;
  }

  @Override
  public IssuedDataKey issue(KeyContext context) {
    byte[] raw = new byte[DataKey.LENGTH_BYTES];
    random.nextBytes(raw);
    try {
      byte[] wrapped = encrypt.encrypt(raw, context.toBytes());
      return new IssuedDataKey(
          DataKey.adopt(raw, SecretAccess.insecure()),
          new WrappedDataKey(KeyProviderId.LOCAL_HPKE, keyRef, wrapped));
    } catch (GeneralSecurityException e) {
      java.util.Arrays.fill(raw, (byte) 0);
      // Local HPKE has no transient failure mode; a failure here is a broken keyset.
      throw new IllegalStateException("HPKE encryption failed with the writer keyset", e);
    }
  }
}
