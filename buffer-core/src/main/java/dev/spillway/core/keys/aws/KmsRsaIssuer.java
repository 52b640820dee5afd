package dev.spillway.core.keys.aws;

import dev.spillway.core.keys.DataKey;
import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.IssuedDataKey;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyProviderId;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.keys.SecretAccess;
import dev.spillway.core.keys.WrappedDataKey;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.kms.model.EncryptionAlgorithmSpec;
import software.amazon.awssdk.services.kms.model.GetPublicKeyResponse;
import software.amazon.awssdk.services.kms.model.KeyUsageType;

/**
 * The {@code aws-kms-rsa} writer: fetches the KMS public key once and wraps each new data key
 * locally with RSAES_OAEP_SHA_256, so the write path makes no KMS call and holds nothing that can
 * decrypt.
 *
 * <p>What is wrapped is 64 bytes: the data key, then SHA-256 of the {@link KeyContext#toBytes()
 * key context}. KMS takes no encryption context for RSA keys, so this digest is what binds the
 * wrapped key to its queue, stream and epoch; the reader checks it after {@code Decrypt}.
 */
final class KmsRsaIssuer implements DataKeyIssuer {
  private static final Logger LOG = LoggerFactory.getLogger(KmsRsaIssuer.class);

  /**
   * SHA-256 for both the OAEP hash and MGF1, empty label: what KMS calls RSAES_OAEP_SHA_256.
   * Java's "OAEPWithSHA-256AndMGF1Padding" without parameters uses SHA-1 for MGF1, which KMS
   * cannot decrypt.
   */
  static final OAEPParameterSpec OAEP_SHA256 =
      new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT);

  static final String TRANSFORMATION = "RSA/ECB/OAEPPadding";
  /** Data key and context digest. */
  static final int WRAPPED_PLAINTEXT_BYTES = DataKey.LENGTH_BYTES + 32;
  static final int MIN_MODULUS_BITS = 2048;

  private final AwsKms kms;
  private final String keyId;
  private final SecureRandom random = new SecureRandom();
  private final Object fetchLock = new Object(); // serializes GetPublicKey until one succeeds
  private volatile PublicKey publicKey;

  private record PublicKey(RSAPublicKey key, String keyRef) {}

  KmsRsaIssuer(AwsKms kms, String keyId) {
    this.kms = kms;
    this.keyId = keyId;
  }

  @Override
  public KeyProviderId provider() {
    return KeyProviderId.AWS_KMS_RSA;
  }

  @Override
  public IssuedDataKey issue(KeyContext context) throws KeyUnavailableException {
    PublicKey pk = publicKey(context);
    byte[] dek = new byte[DataKey.LENGTH_BYTES];
    random.nextBytes(dek);
    byte[] message = new byte[WRAPPED_PLAINTEXT_BYTES];
    System.arraycopy(dek, 0, message, 0, DataKey.LENGTH_BYTES);
    System.arraycopy(contextDigest(context), 0, message, DataKey.LENGTH_BYTES, 32);
    byte[] wrapped;
    try {
      Cipher cipher = Cipher.getInstance(TRANSFORMATION);
      cipher.init(Cipher.ENCRYPT_MODE, pk.key, OAEP_SHA256, random);
      wrapped = cipher.doFinal(message);
    } catch (GeneralSecurityException e) {
      Arrays.fill(dek, (byte) 0);
      throw new IllegalStateException("RSA-OAEP-SHA256 wrapping failed with a validated public key", e);
    } finally {
      Arrays.fill(message, (byte) 0);
    }
    return new IssuedDataKey(
        DataKey.adopt(dek, SecretAccess.insecure()),
        new WrappedDataKey(KeyProviderId.AWS_KMS_RSA, pk.keyRef, wrapped));
  }

  private PublicKey publicKey(KeyContext context) throws KeyUnavailableException {
    PublicKey pk = publicKey;
    if (pk != null) {
      return pk;
    }
    synchronized (fetchLock) {
      if (publicKey == null) {
        publicKey = fetch(context);
      }
      return publicKey;
    }
  }

  private PublicKey fetch(KeyContext context) throws KeyUnavailableException {
    GetPublicKeyResponse r;
    try {
      r = kms.call(KmsOperation.GET_PUBLIC_KEY, c -> c.getPublicKey(b -> b.keyId(keyId)));
    } catch (RuntimeException e) {
      KeyUnavailableException u = KmsErrors.unavailable(KmsOperation.GET_PUBLIC_KEY, keyId, context, e);
      LOG.debug("{}", u.getMessage());
      throw u;
    }
    String keyRef = AwsKms.keyRefFor(r.keyId(), keyId);
    if (r.keyUsage() != null && r.keyUsage() != KeyUsageType.ENCRYPT_DECRYPT) {
      throw unusable(keyRef, "its key usage is " + r.keyUsageAsString() + ", not ENCRYPT_DECRYPT");
    }
    if (r.hasEncryptionAlgorithms()
        && !r.encryptionAlgorithms().contains(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256)) {
      throw unusable(keyRef, "it does not allow RSAES_OAEP_SHA_256 (allows " + r.encryptionAlgorithmsAsStrings() + ")");
    }
    RSAPublicKey key;
    try {
      key = (RSAPublicKey) KeyFactory.getInstance("RSA")
          .generatePublic(new X509EncodedKeySpec(r.publicKey().asByteArray()));
    } catch (GeneralSecurityException | ClassCastException e) {
      throw unusable(keyRef, "its public key is not an RSA key (" + e.getClass().getSimpleName() + ")");
    }
    if (key.getModulus().bitLength() < MIN_MODULUS_BITS) {
      throw unusable(keyRef, "its modulus has " + key.getModulus().bitLength() + " bits, fewer than " + MIN_MODULUS_BITS);
    }
    LOG.info("aws-kms-rsa writer wraps data keys locally with the public key of {} ({} bits)",
        keyRef, key.getModulus().bitLength());
    return new PublicKey(key, keyRef);
  }

  private static KeyUnavailableException unusable(String keyRef, String why) {
    // Still "unavailable": the writer fails closed and applies back-pressure until reconfigured.
    KeyUnavailableException e = new KeyUnavailableException(
        "KMS key " + keyRef + " cannot wrap aws-kms-rsa data keys: " + why);
    LOG.warn("{}", e.getMessage());
    return e;
  }

  static byte[] contextDigest(KeyContext context) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(context.toBytes());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
  }

  @Override
  public String toString() {
    return "aws-kms-rsa writer[" + keyId + "]";
  }
}
