package dev.spillway.core.keys.aws;

import dev.spillway.core.keys.KeyRecordSigner;

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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Both KMS providers against a real moto KMS server. */
@ExtendWith(MotoServer.Extension.class)
class AwsKmsMotoTest {

  @Test
  void issue_thenUnwrap_roundTripsTheDataKey(MotoServer moto) throws Exception {
    String arn = moto.createSymmetricKey();
    try (AwsKms kms = moto.kms().build()) {
      KeyContext ctx = context(1);
      IssuedDataKey issued = kms.issuer(arn).issue(ctx);

      assertThat(issued.wrapped().provider()).isEqualTo(KeyProviderId.AWS_KMS);
      assertThat(issued.wrapped().keyRef()).isEqualTo(arn);
      try (DataKey unwrapped = kms.unwrapper(arn).unwrap(issued.wrapped(), ctx)) {
        assertThat(unwrapped.sameKeyAs(issued.plaintext(), SecretAccess.insecure())).isTrue();
      }
      assertThat(kms.metrics().calls(KmsOperation.GENERATE_DATA_KEY)).isEqualTo(1);
      assertThat(kms.metrics().calls(KmsOperation.DECRYPT)).isEqualTo(1);
      assertThat(kms.metrics().errors(KmsOperation.DECRYPT)).isZero();
    }
  }

  @Test
  void issue_aliasKeyId_recordsTheKeyArnForTheReader(MotoServer moto) throws Exception {
    String arn = moto.createSymmetricKey();
    moto.createAlias("spillway-writer-" + System.nanoTime(), arn);
    String alias = "alias/spillway-alias-" + System.nanoTime();
    moto.createAlias(alias.substring("alias/".length()), arn);
    try (AwsKms kms = moto.kms().build()) {
      KeyContext ctx = context(3);
      IssuedDataKey issued = kms.issuer(alias).issue(ctx);

      assertThat(issued.wrapped().keyRef()).isEqualTo(arn);
      assertThat(kms.unwrapper(arn).unwrap(issued.wrapped(), ctx).sameKeyAs(issued.plaintext(), SecretAccess.insecure()))
          .isTrue();
    }
  }

  @Test
  void unwrap_wrongEncryptionContext_isRefused(MotoServer moto) throws Exception {
    String arn = moto.createSymmetricKey();
    try (AwsKms kms = moto.kms().unwrapCacheSize(0).build()) {
      KeyContext ctx = context(7);
      WrappedDataKey wrapped = kms.issuer(arn).issue(ctx).wrapped();
      DataKeyUnwrapper reader = kms.unwrapper(arn);

      KeyContext otherEpoch = new KeyContext(QUEUE, ctx.streamId(), 8);
      KeyContext otherQueue = new KeyContext("payments", ctx.streamId(), 7);
      assertThatThrownBy(() -> reader.unwrap(wrapped, otherEpoch))
          .isInstanceOf(KeyRefusedException.class)
          .hasMessageContaining("InvalidCiphertextException");
      assertThatThrownBy(() -> reader.unwrap(wrapped, otherQueue)).isInstanceOf(KeyRefusedException.class);
      assertThat(kms.metrics().errors(KmsOperation.DECRYPT)).isEqualTo(2);
    }
  }

  @Test
  void unwrap_tamperedCiphertext_isRefused(MotoServer moto) throws Exception {
    String arn = moto.createSymmetricKey();
    try (AwsKms kms = moto.kms().build()) {
      KeyContext ctx = context(1);
      byte[] ct = kms.issuer(arn).issue(ctx).wrapped().ciphertext();
      ct[ct.length - 1] ^= 1; // last byte of moto's blob: the AES-GCM ciphertext
      WrappedDataKey tampered = new WrappedDataKey(KeyProviderId.AWS_KMS, arn, ct);

      assertThatThrownBy(() -> kms.unwrapper(arn).unwrap(tampered, ctx)).isInstanceOf(KeyRefusedException.class);
    }
  }

  @Test
  void unwrap_keyRefOfAnotherKey_isRefusedWithoutCallingKms(MotoServer moto) throws Exception {
    String writerKey = moto.createSymmetricKey();
    String readerKey = moto.createSymmetricKey();
    try (AwsKms kms = moto.kms().build()) {
      KeyContext ctx = context(1);
      WrappedDataKey wrapped = kms.issuer(writerKey).issue(ctx).wrapped();
      DataKeyUnwrapper reader = kms.unwrapper(readerKey);

      assertThat(reader.accepts(wrapped)).isFalse();
      assertThatThrownBy(() -> reader.unwrap(wrapped, ctx)).isInstanceOf(KeyRefusedException.class);
      assertThat(kms.metrics().calls(KmsOperation.DECRYPT)).isZero();
    }
  }

  @Test
  void symmetricWriter_sealingManyEpochs_neverCallsDecrypt(MotoServer moto) throws Exception {
    String arn = moto.createSymmetricKey();
    WireCounter wire = new WireCounter();
    try (AwsKms writerKms = moto.kms().addInterceptor(wire).build()) {
      Sealer sealer = new Sealer(writerKms.issuer(arn), QUEUE,
          new RotationPolicy(Duration.ofHours(1), 10, 1L << 30), Codec.LZ4, new MutableClock(Instant.parse("2026-11-23T10:00:00Z")));
      for (int i = 0; i < 100; i++) {
        sealer.seal(PayloadType.OTLP_TRACES, payload(i));
      }

      assertThat(wire.all()).containsOnlyKeys("GenerateDataKey");
      assertThat(wire.count("Decrypt")).isZero();
      assertThat(writerKms.metrics().attempts(KmsOperation.DECRYPT)).isZero();
      assertThat(writerKms.metrics().calls(KmsOperation.GENERATE_DATA_KEY)).isEqualTo(sealer.keyRequests());
    }
  }

  @Test
  void sealAndOpen_thousandBatches_oneKmsCallPerEpochOnEachSide(MotoServer moto) throws Exception {
    String arn = moto.createSymmetricKey();
    int batches = 1_000;
    int recordsPerEpoch = 100;
    WireCounter writerWire = new WireCounter();
    WireCounter readerWire = new WireCounter();
    try (AwsKms writerKms = moto.kms().addInterceptor(writerWire).build();
        AwsKms readerKms = moto.kms().addInterceptor(readerWire).unwrapCacheSize(0).build()) {
      Sealer sealer = new Sealer(writerKms.issuer(arn), QUEUE,
          new RotationPolicy(Duration.ofHours(1), recordsPerEpoch, 1L << 30), Codec.LZ4, new MutableClock(Instant.parse("2026-11-23T10:00:00Z")));
      List<SealedBatch> sealed = new ArrayList<>();
      List<Integer> ids = new ArrayList<>();
      for (int i = 0; i < batches; i++) {
        sealed.add(sealer.seal(PayloadType.OTLP_TRACES, payload(i)));
        ids.add(i);
      }
      long epochs = sealed.stream().map(b -> b.keyRecord().epoch()).distinct().count();

      Opener opener = new Opener(readerKms.unwrapper(arn), QUEUE);
      Batches.openAll(opener, sealed, ids);

      // The sealer rotates at 3/4 of maxRecords: 75 batches per epoch.
      assertThat(epochs).isEqualTo((batches + 74) / 75);
      assertThat(writerWire.all()).isEqualTo(Map.of("GenerateDataKey", epochs));
      assertThat(readerWire.all()).isEqualTo(Map.of("Decrypt", epochs));
      assertThat(opener.unwrapCalls()).isEqualTo(epochs);
      System.err.printf("aws-kms: %d batches, %d epochs, %d GenerateDataKey, %d Decrypt; %s / %s%n",
          batches, epochs, writerWire.count("GenerateDataKey"), readerWire.count("Decrypt"),
          writerKms.metrics(), readerKms.metrics());
    }
  }

  @Test
  void unwrap_sameEpochAgain_isServedFromTheBoundedCache(MotoServer moto) throws Exception {
    String arn = moto.createSymmetricKey();
    try (AwsKms kms = moto.kms().unwrapCacheSize(2).build()) {
      DataKeyIssuer issuer = kms.issuer(arn);
      DataKeyUnwrapper reader = kms.unwrapper(arn);
      KeyContext c1 = context(1);
      KeyContext c2 = context(2);
      KeyContext c3 = context(3);
      WrappedDataKey w1 = issuer.issue(c1).wrapped();
      WrappedDataKey w2 = issuer.issue(c2).wrapped();
      WrappedDataKey w3 = issuer.issue(c3).wrapped();

      reader.unwrap(w1, c1).destroy();
      reader.unwrap(w1, c1).destroy(); // hit
      assertThat(kms.metrics().calls(KmsOperation.DECRYPT)).isEqualTo(1);
      reader.unwrap(w2, c2).destroy();
      reader.unwrap(w3, c3).destroy(); // evicts w1 (least recently used)
      reader.unwrap(w1, c1).destroy(); // miss again
      assertThat(kms.metrics().calls(KmsOperation.DECRYPT)).isEqualTo(4);
    }
  }

  @Test
  void anyOf_afterKeyRotation_opensEpochsOfTheOldAndTheNewKey(MotoServer moto) throws Exception {
    String oldKey = moto.createSymmetricKey();
    String newKey = moto.createSymmetricKey();
    try (AwsKms kms = moto.kms().build()) {
      RotationPolicy policy = new RotationPolicy(Duration.ofHours(1), 4, 1L << 30);
      Sealer before = new Sealer(kms.issuer(oldKey), QUEUE, policy, Codec.NONE, new MutableClock(Instant.parse("2026-11-23T10:00:00Z")));
      Sealer after = new Sealer(kms.issuer(newKey), QUEUE, policy, Codec.NONE, new MutableClock(Instant.parse("2026-11-23T10:00:00Z")));
      List<SealedBatch> sealed = new ArrayList<>();
      List<Integer> ids = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        sealed.add((i < 5 ? before : after).seal(PayloadType.OTLP_LOGS, payload(i)));
        ids.add(i);
      }
      DataKeyUnwrapper reader = DataKeyUnwrapper.anyOf(List.of(kms.unwrapper(newKey), kms.unwrapper(oldKey)));

      Batches.openAll(new Opener(reader, QUEUE), sealed, ids);
      assertThat(sealed).extracting(b -> b.keyRecord().wrapped().keyRef()).containsOnly(oldKey, newKey);
    }
  }

  @Test
  void rsaIssuer_manyEpochs_fetchesThePublicKeyOnceAndNeverCallsKmsAgain(MotoServer moto) throws Exception {
    String arn = moto.createRsaKey();
    WireCounter wire = new WireCounter();
    try (AwsKms kms = moto.kms().addInterceptor(wire).build()) {
      Sealer sealer = new Sealer(kms.rsaIssuer(arn).signedBy(KeyRecordSigner.generate()), QUEUE,
          new RotationPolicy(Duration.ofHours(1), 4, 1L << 30), Codec.LZ4, new MutableClock(Instant.parse("2026-11-23T10:00:00Z")));
      List<SealedBatch> sealed = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        sealed.add(sealer.seal(PayloadType.OTLP_TRACES, payload(i)));
      }

      assertThat(sealer.keyRequests()).isEqualTo(67); // rotates every 3 batches
      assertThat(wire.all()).isEqualTo(Map.of("GetPublicKey", 1L));
      WrappedDataKey w = sealed.get(199).keyRecord().wrapped();
      assertThat(w.provider()).isEqualTo(KeyProviderId.AWS_KMS_RSA);
      assertThat(w.keyRef()).isEqualTo(arn);
      assertThat(w.ciphertext()).hasSize(3072 / 8); // one RSA-3072 OAEP block
    }
  }

  @Test
  void rsaIssuer_symmetricKey_failsClosedWithKeyUnavailable(MotoServer moto) {
    String arn = moto.createSymmetricKey();
    try (AwsKms kms = moto.kms().build()) {
      assertThatThrownBy(() -> kms.rsaIssuer(arn).issue(context(1)))
          .isInstanceOf(dev.spillway.core.keys.KeyUnavailableException.class);
    }
  }
}
