package dev.spillway.core.keys.aws;

import java.time.Instant;
import dev.spillway.core.internal.seal.MutableClock;
import static dev.spillway.core.keys.aws.Batches.QUEUE;
import static dev.spillway.core.keys.aws.Batches.context;
import static dev.spillway.core.keys.aws.Batches.payload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.keys.WrappedDataKey;
import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.internal.seal.EnvelopeFormat;
import dev.spillway.core.internal.seal.Opener;
import dev.spillway.core.PayloadType;
import dev.spillway.core.RotationPolicy;
import dev.spillway.core.internal.seal.SealedBatch;
import dev.spillway.core.internal.seal.SealedRecord;
import dev.spillway.core.internal.seal.Sealer;
import dev.spillway.core.internal.seal.SealingUnavailableException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * KMS outages, simulated by pausing the moto process (SIGSTOP): the kernel still accepts
 * connections, so every call runs into its time-out, the worst case for a writer.
 */
@ExtendWith(MotoServer.Extension.class)
class AwsKmsOutageTest {
  /** MotoServer.kms() sets a 1.5 s call time-out; allow scheduling slack on a busy 2-core box. */
  private static final Duration CALL_TIMEOUT = Duration.ofMillis(1_500);
  private static final Duration BOUND = CALL_TIMEOUT.plusSeconds(2);

  @Test
  void issue_kmsPaused_throwsUnavailableWithinTheCallTimeout_andRecoversWhenResumed(MotoServer moto)
      throws Exception {
    String arn = moto.createSymmetricKey();
    try (AwsKms kms = moto.kms().build()) {
      DataKeyIssuer issuer = kms.issuer(arn);
      issuer.issue(context(1));

      moto.pause();
      long elapsedNanos;
      try {
        long start = System.nanoTime();
        assertThatThrownBy(() -> issuer.issue(context(2)))
            .isInstanceOf(KeyUnavailableException.class)
            .hasMessageContaining("GenerateDataKey");
        elapsedNanos = System.nanoTime() - start;
      } finally {
        moto.resume();
      }

      assertThat(Duration.ofNanos(elapsedNanos)).isLessThan(BOUND);
      assertThat(issuer.issue(context(3)).wrapped().keyRef()).isEqualTo(arn);
      assertThat(kms.metrics().errors(KmsOperation.GENERATE_DATA_KEY)).isEqualTo(1);
      assertThat(kms.metrics().attempts(KmsOperation.GENERATE_DATA_KEY)).isEqualTo(1 + 2 + 1);
      System.err.printf("aws-kms paused: issue() gave up after %d ms (call time-out %d ms)%n",
          Duration.ofNanos(elapsedNanos).toMillis(), CALL_TIMEOUT.toMillis());
    }
  }

  @Test
  void open_kmsPaused_keepsTheRecordAsUnavailable_thenOpensItWhenResumed(MotoServer moto) throws Exception {
    String arn = moto.createSymmetricKey();
    try (AwsKms writer = moto.kms().build();
        AwsKms reader = moto.kms().unwrapCacheSize(0).build()) {
      Sealer sealer = new Sealer(writer.issuer(arn), QUEUE, RotationPolicy.defaults(), Codec.LZ4, new MutableClock(Instant.parse("2026-11-23T10:00:00Z")));
      SealedBatch batch = sealer.seal(PayloadType.OTLP_TRACES, payload(1));
      SealedRecord record = (SealedRecord) EnvelopeFormat.parse(batch.bytes());
      Opener opener = new Opener(reader.unwrapper(arn), QUEUE);
      opener.accept(batch.keyRecord());

      moto.pause();
      try {
        assertThatThrownBy(() -> opener.open(record)).isInstanceOf(KeyUnavailableException.class);
        // The unwrapper itself says "unavailable", never "refused": nothing goes to quarantine.
        WrappedDataKey wrapped = batch.keyRecord().wrapped();
        KeyContext ctx = batch.keyRecord().context(QUEUE);
        assertThatThrownBy(() -> reader.unwrapper(arn).unwrap(wrapped, ctx))
            .isInstanceOf(KeyUnavailableException.class);
      } finally {
        moto.resume();
      }

      assertThat(opener.open(record).payload()).isEqualTo(payload(1));
    }
  }

  @Test
  void seal_kmsPausedMidRun_keepsTheCurrentKeyUntilSpent_thenBackPressure_thenResumes(
      MotoServer moto, @TempDir Path dir) throws Exception {
    String arn = moto.createSymmetricKey();
    MutableClock clock = new MutableClock(Instant.parse("2026-11-23T10:00:00Z"));
    // Rotation is due at 6 records and forced at 8.
    RotationPolicy policy = new RotationPolicy(Duration.ofHours(1), 8, 1L << 30);
    List<SealedBatch> sealed = new ArrayList<>();
    Path spill = dir.resolve("spill.bin");
    try (AwsKms writer = moto.kms().build();
        AwsKms reader = moto.kms().build();
        OutputStream out = Files.newOutputStream(spill)) {
      Sealer sealer = new Sealer(writer.issuer(arn), QUEUE, policy, Codec.NONE, clock);
      for (int i = 0; i < 6; i++) {
        sealed.add(sealer.seal(PayloadType.OTLP_TRACES, payload(i)));
      }

      moto.pause();
      try {
        // #6: rotation due, KMS silent: sealing goes on with the current key.
        sealed.add(sealer.seal(PayloadType.OTLP_TRACES, payload(6)));
        // #7: within the retry back-off, no KMS call at all.
        sealed.add(sealer.seal(PayloadType.OTLP_TRACES, payload(7)));
        // #8: the epoch is spent: back-pressure.
        long start = System.nanoTime();
        assertThatThrownBy(() -> sealer.seal(PayloadType.OTLP_TRACES, payload(8)))
            .isInstanceOf(SealingUnavailableException.class)
            .hasMessageContaining("GenerateDataKey");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(BOUND);
        // Still down a little later: still refused, never sealed without a key.
        clock.advance(Duration.ofSeconds(2));
        assertThatThrownBy(() -> sealer.seal(PayloadType.OTLP_TRACES, payload(8)))
            .isInstanceOf(SealingUnavailableException.class);
      } finally {
        moto.resume();
      }
      clock.advance(Duration.ofSeconds(2));
      sealed.add(sealer.seal(PayloadType.OTLP_TRACES, payload(8)));
      for (SealedBatch b : sealed) {
        out.write(b.keyRecord().encoded());
        out.write(b.bytes());
      }
      out.flush();

      assertThat(sealed).extracting(b -> b.keyRecord().epoch())
          .containsExactly(1L, 1L, 1L, 1L, 1L, 1L, 1L, 1L, 2L);
      assertThat(sealer.keyRequests()).isEqualTo(5); // epoch 1, three failures, epoch 2
      assertThat(writer.metrics().errors(KmsOperation.GENERATE_DATA_KEY)).isEqualTo(3);
      byte[] onDisk = Files.readAllBytes(spill);
      assertThat(Batches.contains(onDisk, "PLAINTEXT-SPAN".getBytes(StandardCharsets.UTF_8))).isFalse();
      Batches.openAll(new Opener(reader.unwrapper(arn), QUEUE), sealed,
          IntStream.rangeClosed(0, 8).boxed().toList());
    }
  }
}
