package dev.spillway.core.keys.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.keys.DataKey;
import dev.spillway.core.keys.KeyProviderId;
import dev.spillway.core.keys.SecretAccess;
import dev.spillway.core.keys.WrappedDataKey;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.kms.model.KmsException;
import software.amazon.awssdk.services.kms.model.DisabledException;
import software.amazon.awssdk.services.kms.model.IncorrectKeyException;
import software.amazon.awssdk.services.kms.model.InvalidCiphertextException;
import software.amazon.awssdk.services.kms.model.KmsInternalException;
import software.amazon.awssdk.services.kms.model.NotFoundException;
import software.amazon.awssdk.core.exception.SdkClientException;

/** Builder validation, error classification and the unwrap cache; no KMS needed. */
class AwsKmsBuilderTest {
  private static final String ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

  private static AwsKms.Builder offline() {
    // Nothing listens on port 9 of 127.0.0.1; none of these tests may reach it anyway.
    return AwsKms.builder()
        .region("eu-west-1")
        .endpointOverride(URI.create("http://127.0.0.1:9"))
        .credentialsProvider(MotoServer.CREDENTIALS);
  }

  @Test
  void build_attemptTimeoutAboveCallTimeout_throws() {
    assertThatThrownBy(() -> offline().attemptTimeout(Duration.ofSeconds(3)).callTimeout(Duration.ofSeconds(2)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("attemptTimeout");
  }

  @Test
  void setters_invalidValues_throwAtOnce() {
    AwsKms.Builder b = AwsKms.builder();
    assertThatThrownBy(() -> b.connectTimeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.callTimeout(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.maxAttempts(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.maxAttempts(11)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.retryBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.unwrapCacheSize(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.region(" ")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.endpointOverride(URI.create("kms.local"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.credentialsProvider(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void unwrapper_aliasOrBareKeyId_throws() {
    try (AwsKms kms = offline().build()) {
      assertThatThrownBy(() -> kms.unwrapper("alias/spillway")).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("full key ARN");
      assertThatThrownBy(() -> kms.rsaUnwrapper("1234abcd-12ab-34cd-56ef-1234567890ab"))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void unwrapper_keyArnOfAnotherRegion_throws() {
    try (AwsKms kms = offline().build()) {
      assertThatThrownBy(() -> kms.unwrapper(ARN.replace("eu-west-1", "us-east-2")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("us-east-2");
      assertThat(kms.unwrapper(ARN)).isNotNull();
      assertThat(kms.region()).isEqualTo("eu-west-1");
    }
  }

  @Test
  void unwrapper_routesByProviderAndKeyRef() {
    try (AwsKms kms = offline().build()) {
      WrappedDataKey symmetric = new WrappedDataKey(KeyProviderId.AWS_KMS, ARN, new byte[] {1});
      WrappedDataKey rsa = new WrappedDataKey(KeyProviderId.AWS_KMS_RSA, ARN, new byte[] {1});
      assertThat(kms.unwrapper(ARN).accepts(symmetric)).isTrue();
      assertThat(kms.unwrapper(ARN).accepts(rsa)).isFalse();
      assertThat(kms.rsaUnwrapper(ARN).accepts(rsa)).isTrue();
      assertThat(kms.unwrapper(ARN.replace("1234abcd", "9999abcd")).accepts(symmetric)).isFalse();
      assertThat(kms.metrics().calls(KmsOperation.DECRYPT)).isZero();
    }
  }

  @Test
  void keyRefFor_bareIdFromKms_prefersTheConfiguredArn() {
    assertThat(AwsKms.keyRefFor(ARN, "alias/x")).isEqualTo(ARN);
    assertThat(AwsKms.keyRefFor("1234abcd-12ab-34cd-56ef-1234567890ab", ARN)).isEqualTo(ARN);
    assertThat(AwsKms.keyRefFor(null, "alias/x")).isEqualTo("alias/x");
  }

  @Test
  void isPermanentForDecrypt_onlyRecordLevelErrors_areRefusals() {
    assertThat(KmsErrors.isPermanentForDecrypt(InvalidCiphertextException.builder().build())).isTrue();
    assertThat(KmsErrors.isPermanentForDecrypt(IncorrectKeyException.builder().build())).isTrue();
    assertThat(KmsErrors.isPermanentForDecrypt(NotFoundException.builder().build())).isTrue();
    assertThat(KmsErrors.isPermanentForDecrypt(
        KmsException.builder().awsErrorDetails(AwsErrorDetails.builder().errorCode("AccessDeniedException").build()).build())).isFalse();
    assertThat(KmsErrors.isPermanentForDecrypt(DisabledException.builder().build())).isFalse();
    assertThat(KmsErrors.isPermanentForDecrypt(KmsInternalException.builder().build())).isFalse();
    assertThat(KmsErrors.isPermanentForDecrypt(SdkClientException.create("Read timed out"))).isFalse();
    assertThat(KmsErrors.isPermanentForDecrypt(new IllegalStateException("closed"))).isFalse();
  }

  @Test
  void cache_beyondItsBound_evictsTheLeastRecentlyUsedAndZeroesIt() {
    UnwrappedKeyCache cache = new UnwrappedKeyCache(2, Duration.ofMinutes(1).toNanos(), System::nanoTime);
    var c1 = Batches.context(1);
    var c2 = Batches.context(2);
    var c3 = Batches.context(3);
    WrappedDataKey w = new WrappedDataKey(KeyProviderId.AWS_KMS, ARN, new byte[] {7});
    cache.put(w, c1, key(1));
    cache.put(w, c2, key(2));
    cache.get(w, c1).destroy(); // c1 is now the most recently used
    cache.put(w, c3, key(3));

    assertThat(cache.size()).isEqualTo(2);
    assertThat(cache.get(w, c2)).isNull();
    assertThat(cache.get(w, c1).sameKeyAs(key(1), SecretAccess.insecure())).isTrue();
    assertThat(cache.get(w, c3).sameKeyAs(key(3), SecretAccess.insecure())).isTrue();
  }

  @Test
  void cache_entryOlderThanTtl_isNotServed() {
    AtomicLong now = new AtomicLong();
    UnwrappedKeyCache cache = new UnwrappedKeyCache(4, 1_000, now::get);
    var ctx = Batches.context(1);
    WrappedDataKey w = new WrappedDataKey(KeyProviderId.AWS_KMS, ARN, new byte[] {7});
    cache.put(w, ctx, key(1));
    now.set(999);
    assertThat(cache.get(w, ctx)).isNotNull();
    now.set(1_000);
    assertThat(cache.get(w, ctx)).isNull();
    assertThat(cache.size()).isZero();
  }

  @Test
  void cache_sizeZero_keepsNothing() {
    UnwrappedKeyCache cache = new UnwrappedKeyCache(0, 1_000, System::nanoTime);
    var ctx = Batches.context(1);
    WrappedDataKey w = new WrappedDataKey(KeyProviderId.AWS_KMS, ARN, new byte[] {7});
    cache.put(w, ctx, key(1));
    assertThat(cache.get(w, ctx)).isNull();
  }

  private static DataKey key(int fill) {
    byte[] b = new byte[DataKey.LENGTH_BYTES];
    java.util.Arrays.fill(b, (byte) fill);
    return DataKey.adopt(b, SecretAccess.insecure());
  }
}
