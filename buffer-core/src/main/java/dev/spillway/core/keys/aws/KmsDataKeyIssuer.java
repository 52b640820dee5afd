package dev.spillway.core.keys.aws;

import dev.spillway.core.keys.DataKey;
import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.IssuedDataKey;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyProviderId;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.keys.SecretAccess;
import dev.spillway.core.keys.WrappedDataKey;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.kms.model.DataKeySpec;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyRequest;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyResponse;

/**
 * The {@code aws-kms} writer: one {@code GenerateDataKey} per epoch, bound to the epoch's
 * encryption context. It holds no way to call {@code Decrypt}.
 */
final class KmsDataKeyIssuer implements DataKeyIssuer {
  private static final Logger LOG = LoggerFactory.getLogger(KmsDataKeyIssuer.class);

  private final AwsKms kms;
  private final String keyId;

  KmsDataKeyIssuer(AwsKms kms, String keyId) {
    this.kms = kms;
    this.keyId = keyId;
  }

  @Override
  public KeyProviderId provider() {
    return KeyProviderId.AWS_KMS;
  }

  @Override
  public IssuedDataKey issue(KeyContext context) throws KeyUnavailableException {
    GenerateDataKeyRequest request =
        GenerateDataKeyRequest.builder()
            .keyId(keyId)
            .keySpec(DataKeySpec.AES_256)
            .encryptionContext(context.toEncryptionContext())
            .build();
    GenerateDataKeyResponse response;
    try {
      response = kms.call(KmsOperation.GENERATE_DATA_KEY, c -> c.generateDataKey(request));
    } catch (RuntimeException e) {
      // Every writer-side failure is "not now": nothing is written without a key, so the sealer
      // keeps its current key while it lasts and then applies back-pressure.
      KeyUnavailableException u = KmsErrors.unavailable(KmsOperation.GENERATE_DATA_KEY, keyId, context, e);
      LOG.debug("{}", u.getMessage());
      throw u;
    }
    // The SDK decoded the key into this array; take it and zero the SDK's copy.
    byte[] sdkCopy = response.plaintext().asByteArrayUnsafe();
    byte[] key = sdkCopy.clone();
    Arrays.fill(sdkCopy, (byte) 0);
    if (key.length != DataKey.LENGTH_BYTES) {
      Arrays.fill(key, (byte) 0);
      throw new KeyUnavailableException(
          "GenerateDataKey on " + keyId + " returned a key of " + key.length + " bytes, not "
              + DataKey.LENGTH_BYTES);
    }
    String keyRef = AwsKms.keyRefFor(response.keyId(), keyId);
    return new IssuedDataKey(
        DataKey.adopt(key, SecretAccess.insecure()),
        new WrappedDataKey(KeyProviderId.AWS_KMS, keyRef, response.ciphertextBlob().asByteArray()));
  }

  @Override
  public String toString() {
    return "aws-kms writer[" + keyId + "]";
  }
}
