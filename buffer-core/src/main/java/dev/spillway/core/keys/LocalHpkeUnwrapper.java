package dev.spillway.core.keys;

import com.google.crypto.tink.HybridDecrypt;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import java.security.GeneralSecurityException;
import java.util.HashSet;
import java.util.Set;

/** Reader half of the local provider: HPKE-unwraps with every private key in the keyset. */
final class LocalHpkeUnwrapper implements DataKeyUnwrapper {
  private final HybridDecrypt decrypt;
  private final Set<String> keyRefs = new HashSet<>();

  LocalHpkeUnwrapper(KeysetHandle privateKeyset) throws GeneralSecurityException {
    this.decrypt = privateKeyset.getPrimitive(RegistryConfiguration.get(), HybridDecrypt.class);
    for (int i = 0; i < privateKeyset.size(); i++) {
      keyRefs.add(keyRef(privateKeyset.getAt(i).getId()));
    }
  }

  static String keyRef(int tinkKeyId) {
    return "local:" + Integer.toUnsignedString(tinkKeyId);
  }

  @Override
  public boolean accepts(WrappedDataKey wrapped) {
    return wrapped.provider() == KeyProviderId.LOCAL_HPKE && keyRefs.contains(wrapped.keyRef());
  }

  @Override
  public DataKey unwrap(WrappedDataKey wrapped, KeyContext context) throws KeyRefusedException {
    if (!accepts(wrapped)) {
      throw new KeyRefusedException(
          "no local reader key " + wrapped.keyRef() + " (the key pair of another deployment?)");
    }
    try {
      return DataKey.adopt(decrypt.decrypt(wrapped.ciphertext(), context.toBytes()), SecretAccess.insecure());
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new KeyRefusedException("wrapped key " + wrapped.keyRef() + " does not open for " + context, e);
    }
  }
}
