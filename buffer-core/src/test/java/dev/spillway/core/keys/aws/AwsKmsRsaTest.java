package dev.spillway.core.keys.aws;

import dev.spillway.core.keys.KeyRecordSigner;
import dev.spillway.core.keys.KeyRecordVerifier;

import java.time.Instant;
import dev.spillway.core.internal.seal.MutableClock;
import static dev.spillway.core.keys.aws.Batches.QUEUE;
import static dev.spillway.core.keys.aws.Batches.context;
import static dev.spillway.core.keys.aws.Batches.payload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.keys.DataKey;
import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.keys.IssuedDataKey;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyProviderId;
import dev.spillway.core.keys.KeyRefusedException;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.keys.SecretAccess;
import dev.spillway.core.keys.WrappedDataKey;
import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.internal.seal.Opener;
import dev.spillway.core.PayloadType;
import dev.spillway.core.RotationPolicy;
import dev.spillway.core.internal.seal.SealedBatch;
import dev.spillway.core.internal.seal.Sealer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The aws-kms-rsa reader, and client behaviour moto cannot produce (throttling, access denied),
 * against {@link RsaKmsStub}, which holds the private key. The writer half against moto is in
 * {@link AwsKmsMotoTest}.
 */
class AwsKmsRsaTest {
  private static RsaKmsStub stub;

  @BeforeAll
  static void startStub() throws Exception {
    stub = new RsaKmsStub();
  }

  @AfterAll
  static void stopStub() throws Exception {
    stub.close();
  }

  private static AwsKms.Builder kms() {
    return AwsKms.builder()
        .region("us-east-1")
        .endpointOverride(stub.endpoint())
        .credentialsProvider(MotoServer.CREDENTIALS)
        .connectTimeout(Duration.ofMillis(500))
        .attemptTimeout(Duration.ofMillis(1_000))
        .callTimeout(Duration.ofMillis(3_000))
        .maxAttempts(3)
        .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50));
  }

  @Test
  void sealAndOpen_rsaProvider_roundTripsWithOneDecryptPerEpochAndOneGetPublicKey() throws Exception {
    try (AwsKms writer = kms().build(); AwsKms reader = kms().unwrapCacheSize(0).build()) {
      KeyRecordSigner signer = KeyRecordSigner.generate();
      Sealer sealer = new Sealer(writer.rsaIssuer(RsaKmsStub.KEY_ARN).signedBy(signer), QUEUE,
          new RotationPolicy(Duration.ofHours(1), 8, 1L << 30), Codec.LZ4, new MutableClock(Instant.parse("2026-11-23T10:00:00Z")));
      List<SealedBatch> sealed = new ArrayList<>();
      List<Integer> ids = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        sealed.add(sealer.seal(PayloadType.OTLP_METRICS, payload(i)));
        ids.add(i);
      }
      Opener opener = new Opener(
          reader.rsaUnwrapper(RsaKmsStub.KEY_ARN).verifiedBy(KeyRecordVerifier.of(signer)), QUEUE);
      Batches.openAll(opener, sealed, ids);

      assertThat(writer.metrics().calls(KmsOperation.GET_PUBLIC_KEY)).isEqualTo(1);
      assertThat(writer.metrics().calls(KmsOperation.GENERATE_DATA_KEY)).isZero();
      assertThat(writer.metrics().calls(KmsOperation.DECRYPT)).isZero();
      assertThat(reader.metrics().calls(KmsOperation.DECRYPT)).isEqualTo(sealer.keyRequests()).isEqualTo(10);
      assertThat(stub.requests()).filteredOn(r -> r.operation().equals("Decrypt"))
          .allSatisfy(r -> {
            assertThat(r.keyId()).isEqualTo(RsaKmsStub.KEY_ARN);
            assertThat(r.encryptionAlgorithm()).isEqualTo("RSAES_OAEP_SHA_256");
          });
    }
  }

  @Test
  void rsaIssuer_wrappedKey_usesSha256ForBothOaepHashAndMgf1() throws Exception {
    try (AwsKms kms = kms().build()) {
      IssuedDataKey issued = kms.rsaIssuer(RsaKmsStub.KEY_ARN).issue(context(1));
      byte[] ct = issued.wrapped().ciphertext();

      Cipher kmsParameters = Cipher.getInstance(KmsRsaIssuer.TRANSFORMATION);
      kmsParameters.init(Cipher.DECRYPT_MODE, stub.keyPair().getPrivate(), KmsRsaIssuer.OAEP_SHA256);
      byte[] plain = kmsParameters.doFinal(ct);
      assertThat(Arrays.copyOf(plain, DataKey.LENGTH_BYTES))
          .isEqualTo(issued.plaintext().bytes(SecretAccess.insecure()));
      // Java's default for this name uses MGF1 with SHA-1; it must not open what we wrote.
      Cipher javaDefault = Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding");
      javaDefault.init(Cipher.DECRYPT_MODE, stub.keyPair().getPrivate());
      assertThatThrownBy(() -> javaDefault.doFinal(ct)).isInstanceOf(BadPaddingException.class);
    }
  }

  @Test
  void rsaUnwrap_ciphertextMadeWithJavasDefaultMgf1Sha1_isRefused() throws Exception {
    Cipher javaDefault = Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding");
    javaDefault.init(Cipher.ENCRYPT_MODE, stub.keyPair().getPublic());
    KeyContext ctx = context(1);
    byte[] message = new byte[KmsRsaIssuer.WRAPPED_PLAINTEXT_BYTES];
    System.arraycopy(KmsRsaIssuer.contextDigest(ctx), 0, message, DataKey.LENGTH_BYTES, 32);
    WrappedDataKey wrapped =
        new WrappedDataKey(KeyProviderId.AWS_KMS_RSA, RsaKmsStub.KEY_ARN, javaDefault.doFinal(message));
    try (AwsKms kms = kms().build()) {
      assertThatThrownBy(() -> kms.rsaUnwrapper(RsaKmsStub.KEY_ARN).unwrap(wrapped, ctx))
          .isInstanceOf(KeyRefusedException.class)
          .hasMessageContaining("InvalidCiphertextException");
    }
  }

  @Test
  void rsaUnwrap_wrongContext_isRefusedByTheContextDigest() throws Exception {
    try (AwsKms kms = kms().unwrapCacheSize(0).build()) {
      KeyContext ctx = context(4);
      WrappedDataKey wrapped = kms.rsaIssuer(RsaKmsStub.KEY_ARN).issue(ctx).wrapped();
      DataKeyUnwrapper reader = kms.rsaUnwrapper(RsaKmsStub.KEY_ARN);

      assertThatThrownBy(() -> reader.unwrap(wrapped, new KeyContext(QUEUE, ctx.streamId(), 5)))
          .isInstanceOf(KeyRefusedException.class)
          .hasMessageContaining("another queue, stream or epoch");
      assertThatThrownBy(() -> reader.unwrap(wrapped, new KeyContext("payments", ctx.streamId(), 4)))
          .isInstanceOf(KeyRefusedException.class);
      reader.unwrap(wrapped, ctx).destroy();
    }
  }

  @Test
  void decrypt_throttledOnce_isRetriedWithBackoffAndSucceeds() throws Exception {
    try (AwsKms kms = kms().unwrapCacheSize(0).build()) {
      KeyContext ctx = context(1);
      WrappedDataKey wrapped = kms.rsaIssuer(RsaKmsStub.KEY_ARN).issue(ctx).wrapped();
      stub.failNext(1, "ThrottlingException", 400);

      kms.rsaUnwrapper(RsaKmsStub.KEY_ARN).unwrap(wrapped, ctx).destroy();

      assertThat(kms.metrics().calls(KmsOperation.DECRYPT)).isEqualTo(1);
      assertThat(kms.metrics().attempts(KmsOperation.DECRYPT)).isEqualTo(2);
      assertThat(kms.metrics().errors(KmsOperation.DECRYPT)).isZero();
    }
  }

  @Test
  void decrypt_throttledOnEveryAttempt_isUnavailableNotRefused() throws Exception {
    try (AwsKms kms = kms().unwrapCacheSize(0).build()) {
      KeyContext ctx = context(1);
      WrappedDataKey wrapped = kms.rsaIssuer(RsaKmsStub.KEY_ARN).issue(ctx).wrapped();
      stub.failNext(3, "ThrottlingException", 400);

      assertThatThrownBy(() -> kms.rsaUnwrapper(RsaKmsStub.KEY_ARN).unwrap(wrapped, ctx))
          .isInstanceOf(KeyUnavailableException.class)
          .hasMessageContaining("ThrottlingException");
      assertThat(kms.metrics().attempts(KmsOperation.DECRYPT)).isEqualTo(3);
    }
  }

  @Test
  void decrypt_operatorFixableRefusals_areUnavailableSoNothingIsQuarantined() throws Exception {
    try (AwsKms kms = kms().unwrapCacheSize(0).build()) {
      KeyContext ctx = context(1);
      WrappedDataKey wrapped = kms.rsaIssuer(RsaKmsStub.KEY_ARN).issue(ctx).wrapped();
      DataKeyUnwrapper reader = kms.rsaUnwrapper(RsaKmsStub.KEY_ARN);
      for (String code : List.of("AccessDeniedException", "DisabledException", "KMSInvalidStateException")) {
        stub.failNext(1, code, 400);
        assertThatThrownBy(() -> reader.unwrap(wrapped, ctx))
            .as(code)
            .isInstanceOf(KeyUnavailableException.class)
            .hasMessageContaining(code);
      }
      stub.failNext(3, "KMSInternalException", 500);
      assertThatThrownBy(() -> reader.unwrap(wrapped, ctx)).isInstanceOf(KeyUnavailableException.class);

      reader.unwrap(wrapped, ctx).destroy(); // fixed: the same record opens
    }
  }

  @Test
  void rsaIssuer_getPublicKeyFails_isUnavailableUntilItSucceeds_thenFetchesNoMore() throws Exception {
    try (AwsKms kms = kms().build()) {
      DataKeyIssuer issuer = kms.rsaIssuer(RsaKmsStub.KEY_ARN);
      stub.failNext(3, "KMSInternalException", 500);
      assertThatThrownBy(() -> issuer.issue(context(1))).isInstanceOf(KeyUnavailableException.class);

      for (int epoch = 1; epoch <= 20; epoch++) {
        issuer.issue(context(epoch)).plaintext().destroy();
      }
      assertThat(kms.metrics().calls(KmsOperation.GET_PUBLIC_KEY)).isEqualTo(2);
      assertThat(kms.metrics().errors(KmsOperation.GET_PUBLIC_KEY)).isEqualTo(1);
    }
  }
}
