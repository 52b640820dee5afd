package dev.spillway.core.keys.aws;

import dev.spillway.core.keys.DataKey;
import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyProviderId;
import dev.spillway.core.keys.KeyRefusedException;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.keys.SecretAccess;
import dev.spillway.core.keys.WrappedDataKey;
import java.security.MessageDigest;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.model.DecryptRequest;
import software.amazon.awssdk.services.kms.model.DecryptResponse;
import software.amazon.awssdk.services.kms.model.EncryptionAlgorithmSpec;

/**
 * The reader of both KMS providers, for one key ARN: {@code Decrypt} with the epoch's encryption
 * context ({@code aws-kms}) or with RSAES_OAEP_SHA_256 and a check of the wrapped context digest
 * ({@code aws-kms-rsa}). The key ARN is always sent, so KMS never chooses another key.
 */
final class KmsUnwrapper implements DataKeyUnwrapper {
  private static final Logger LOG = LoggerFactory.getLogger(KmsUnwrapper.class);
  /** KMS refuses larger ciphertext blobs; anything longer is not a KMS wrapped key. */
  static final int MAX_KMS_CIPHERTEXT_BYTES = 6144;

  private final AwsKms kms;
  private final String keyArn;
  private final KeyProviderId provider;
  private final UnwrappedKeyCache cache;

  KmsUnwrapper(AwsKms kms, String keyArn, KeyProviderId provider, UnwrappedKeyCache cache) {
    this.kms = kms;
    this.keyArn = keyArn;
    this.provider = provider;
    this.cache = cache;
  }

  @Override
  public boolean accepts(WrappedDataKey wrapped) {
    return wrapped.provider() == provider && wrapped.keyRef().equals(keyArn);
  }

  @Override
  public DataKey unwrap(WrappedDataKey wrapped, KeyContext context)
      throws KeyUnavailableException, KeyRefusedException {
    if (!accepts(wrapped)) {
      throw new KeyRefusedException(this + " does not hold the key of " + wrapped);
    }
    if (wrapped.ciphertext().length > MAX_KMS_CIPHERTEXT_BYTES) {
      throw refusedLocally(wrapped, context, "longer than any KMS ciphertext");
    }
    DataKey cached = cache.get(wrapped, context);
    if (cached != null) {
      return cached;
    }
    DecryptRequest.Builder request =
        DecryptRequest.builder().keyId(keyArn).ciphertextBlob(SdkBytes.fromByteArray(wrapped.ciphertext()));
    if (provider == KeyProviderId.AWS_KMS) {
      request.encryptionContext(context.toEncryptionContext());
    } else {
      request.encryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256);
    }
    DecryptRequest built = request.build();
    DecryptResponse response;
    try {
      response = kms.call(KmsOperation.DECRYPT, c -> c.decrypt(built));
    } catch (RuntimeException e) {
      if (KmsErrors.isPermanentForDecrypt(e)) {
        KeyRefusedException r = KmsErrors.refused(KmsOperation.DECRYPT, keyArn, context, e);
        LOG.warn("{}", r.getMessage());
        throw r;
      }
      KeyUnavailableException u = KmsErrors.unavailable(KmsOperation.DECRYPT, keyArn, context, e);
      LOG.debug("{}", u.getMessage());
      throw u;
    }
    byte[] plain = response.plaintext().asByteArrayUnsafe();
    try {
      DataKey key = provider == KeyProviderId.AWS_KMS ? symmetric(plain, wrapped, context) : rsa(plain, wrapped, context);
      cache.put(wrapped, context, key);
      return key;
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  private DataKey symmetric(byte[] plain, WrappedDataKey wrapped, KeyContext context) throws KeyRefusedException {
    if (plain.length != DataKey.LENGTH_BYTES) {
      throw refusedLocally(wrapped, context, "it holds " + plain.length + " bytes, not a data key");
    }
    return DataKey.adopt(plain.clone(), SecretAccess.insecure());
  }

  private DataKey rsa(byte[] plain, WrappedDataKey wrapped, KeyContext context) throws KeyRefusedException {
    if (plain.length != KmsRsaIssuer.WRAPPED_PLAINTEXT_BYTES) {
      throw refusedLocally(wrapped, context, "it holds " + plain.length + " bytes, not a data key and context digest");
    }
    byte[] digest = Arrays.copyOfRange(plain, DataKey.LENGTH_BYTES, plain.length);
    if (!MessageDigest.isEqual(digest, KmsRsaIssuer.contextDigest(context))) {
      throw refusedLocally(wrapped, context, "it was wrapped for another queue, stream or epoch");
    }
    return DataKey.adopt(Arrays.copyOf(plain, DataKey.LENGTH_BYTES), SecretAccess.insecure());
  }

  private KeyRefusedException refusedLocally(WrappedDataKey wrapped, KeyContext context, String why) {
    KeyRefusedException r = new KeyRefusedException(wrapped + " does not open for " + context + ": " + why);
    LOG.warn("{}", r.getMessage());
    return r;
  }

  @Override
  public String toString() {
    return provider.configName() + " reader[" + keyArn + "]";
  }
}
