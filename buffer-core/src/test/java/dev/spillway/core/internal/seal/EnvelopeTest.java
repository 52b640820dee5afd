package dev.spillway.core.internal.seal;

import dev.spillway.core.QuarantineReason;
import dev.spillway.core.RotationPolicy;
import dev.spillway.core.PayloadType;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.IssuedDataKey;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyUnavailableException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class EnvelopeTest {
  static final String CANARY = "CANARY-7f3a9c-user-ssn-123-45-6789";
  static final String QUEUE = "traces";

  @TempDir java.nio.file.Path tmp;
  TestKeys keys;
  MutableClock clock = new MutableClock(Instant.parse("2026-11-23T00:00:00Z"));

  @BeforeEach
  void setUp() {
    keys = TestKeys.in(tmp.resolve("keys"));
  }

  static byte[] payload(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append("span ").append(i).append(" db.statement=SELECT * FROM users WHERE id=")
          .append(i).append(" enduser.id=").append(CANARY).append('\n');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  Sealer sealer(Codec codec, RotationPolicy policy) {
    return new Sealer(keys.issuer(), QUEUE, policy, codec, clock);
  }

  Opener opener() {
    return new Opener(keys.unwrapper(), QUEUE);
  }

  /** Parses and opens a record, feeding key records to the opener first. */
  static OpenedBatch open(Opener opener, SealedBatch batch) throws Exception {
    opener.accept((KeyRecord) EnvelopeFormat.parse(batch.keyRecord().encoded()));
    return opener.open((SealedRecord) EnvelopeFormat.parse(batch.bytes()));
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void seal_thenOpen_returnsPayloadTypeAndSequence(Codec codec) throws Exception {
    Sealer sealer = sealer(codec, RotationPolicy.defaults());
    Opener opener = opener();
    for (PayloadType type : PayloadType.values()) {
      byte[] p = payload(20);
      SealedBatch b = sealer.seal(type, p);
      OpenedBatch o = open(opener, b);
      assertThat(o.payload()).isEqualTo(p);
      assertThat(o.payloadType()).isEqualTo(type);
      assertThat(o.sequence()).isEqualTo(b.sequence());
    }
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void seal_compressedElsewhere_opensToThePayloadAndCountsItsPlaintextLength(Codec codec) throws Exception {
    Sealer sealer = sealer(codec, RotationPolicy.defaults());
    Opener opener = opener();
    byte[] p = payload(50);
    Sealer.Compressed c = Sealer.compress(codec, p);
    SealedBatch b = sealer.seal(PayloadType.OTLP_LOGS, c);
    OpenedBatch o = open(opener, b);
    assertThat(o.payload()).isEqualTo(p);
    assertThat(o.payloadType()).isEqualTo(PayloadType.OTLP_LOGS);
    assertThat(b.plaintextLength()).isEqualTo(p.length);
    // and it takes its place in the stream like any other batch
    assertThat(open(opener, sealer.seal(PayloadType.OTLP_TRACES, p)).sequence()).isEqualTo(b.sequence() + 1);
  }

  @Test
  void lz4_whicheverCompressorLoaded_roundTripsThroughThePureJavaDecompressor() throws Exception {
    java.util.Random random = new java.util.Random(42);
    for (int size : new int[] {0, 1, 15, 4_096, 65_536, 1_000_003}) {
      byte[] noise = new byte[size];
      random.nextBytes(noise);
      byte[] text = Arrays.copyOf(payload(size / 80 + 1), size);
      for (byte[] p : new byte[][] {noise, text}) {
        byte[] c = Codec.LZ4.compress(p);
        assertThat(Codec.LZ4.decompress(c, p.length)).as("%d bytes via %s", size, Codec.lz4Implementation()).isEqualTo(p);
      }
    }
  }

  @Test
  void seal_compressedWithAnotherCodec_isRefusedNamingBoth() {
    Sealer sealer = sealer(Codec.LZ4, RotationPolicy.defaults());
    Sealer.Compressed c = Sealer.compress(Codec.NONE, payload(3));
    assertThatThrownBy(() -> sealer.seal(PayloadType.OTLP_TRACES, c))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("NONE")
        .hasMessageContaining("LZ4");
  }

  @Test
  void seal_emptyPayload_roundTrips() throws Exception {
    SealedBatch b = sealer(Codec.LZ4, RotationPolicy.defaults()).seal(PayloadType.OTLP_TRACES, new byte[0]);
    assertThat(open(opener(), b).payload()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void seal_canaryInPayload_neverInSealedBytes(Codec codec) throws Exception {
    SealedBatch b = sealer(codec, RotationPolicy.defaults()).seal(PayloadType.OTLP_TRACES, payload(50));
    assertThat(dev.spillway.core.SpillFixtures.indexOf(b.bytes(), CANARY.getBytes(StandardCharsets.UTF_8))).isEqualTo(-1);
    assertThat(dev.spillway.core.SpillFixtures.indexOf(b.keyRecord().encoded(), CANARY.getBytes(StandardCharsets.UTF_8))).isEqualTo(-1);
    // and a shorter fragment of it neither
    assertThat(dev.spillway.core.SpillFixtures.indexOf(b.bytes(), "user-ssn".getBytes(StandardCharsets.UTF_8))).isEqualTo(-1);
  }

  @Test
  void open_anySingleBitFlipped_isTypedErrorNeverGarbage() throws Exception {
    Sealer sealer = sealer(Codec.LZ4, RotationPolicy.defaults());
    SealedBatch b = sealer.seal(PayloadType.OTLP_TRACES, payload(3));
    for (int i = 0; i < b.bytes().length; i++) {
      for (int bit = 0; bit < 8; bit += 3) {
        byte[] tampered = b.bytes().clone();
        tampered[i] ^= (byte) (1 << bit);
        Opener opener = opener();
        opener.accept(b.keyRecord());
        int pos = i;
        assertThatThrownBy(() -> opener.open((SealedRecord) EnvelopeFormat.parse(tampered)))
            .as("flip at byte %d", pos)
            .isInstanceOf(EnvelopeException.class);
      }
    }
  }

  @Test
  void parse_everyTruncation_isFormatError() throws Exception {
    SealedBatch b = sealer(Codec.LZ4, RotationPolicy.defaults()).seal(PayloadType.OTLP_TRACES, payload(3));
    for (int len = 0; len < b.bytes().length; len++) {
      byte[] cut = Arrays.copyOf(b.bytes(), len);
      assertThatThrownBy(() -> EnvelopeFormat.parse(cut)).isInstanceOf(EnvelopeFormatException.class);
    }
    byte[] key = b.keyRecord().encoded();
    for (int len = 0; len < key.length; len++) {
      byte[] cut = Arrays.copyOf(key, len);
      assertThatThrownBy(() -> EnvelopeFormat.parse(cut)).isInstanceOf(EnvelopeFormatException.class);
    }
  }

  @Test
  void open_tamperedKeyRecord_isRefusedAsForged() throws Exception {
    SealedBatch b = sealer(Codec.LZ4, RotationPolicy.defaults()).seal(PayloadType.OTLP_TRACES, payload(3));
    KeyRecord k = b.keyRecord();
    byte[] key = k.encoded().clone();
    key[k.signedLength() - 5] ^= 0x01; // inside the wrapped key
    Opener opener = opener();
    opener.accept((KeyRecord) EnvelopeFormat.parse(key));
    assertThatThrownBy(() -> opener.open((SealedRecord) EnvelopeFormat.parse(b.bytes())))
        .isInstanceOf(KeyRecordSignatureException.class)
        .extracting(e -> ((EnvelopeException) e).reason())
        .isEqualTo(QuarantineReason.FORGED_KEY);
  }

  @Test
  void open_recordMovedToAnotherQueue_failsAuthentication() throws Exception {
    SealedBatch b = sealer(Codec.LZ4, RotationPolicy.defaults()).seal(PayloadType.OTLP_TRACES, payload(3));
    Opener other = new Opener(keys.unwrapper(), "another-queue");
    other.accept(b.keyRecord());
    // The key itself is bound to the queue too, so the first failure is the key context.
    assertThatThrownBy(() -> other.open((SealedRecord) EnvelopeFormat.parse(b.bytes())))
        .isInstanceOf(EnvelopeException.class);
  }

  @Test
  void open_sealedAtRelabelled_failsAuthentication() throws Exception {
    SealedBatch b = sealer(Codec.LZ4, RotationPolicy.defaults()).seal(PayloadType.OTLP_TRACES, payload(3));
    assertThat(((SealedRecord) EnvelopeFormat.parse(b.bytes())).sealedAtMillis()).isEqualTo(clock.millis());
    byte[] younger = b.bytes().clone();
    ByteBuffer.wrap(younger).putLong(38, clock.millis() + 86_400_000L); // dodge the age limit
    Opener opener = opener();
    opener.accept(b.keyRecord());
    assertThatThrownBy(() -> opener.open((SealedRecord) EnvelopeFormat.parse(younger)))
        .isInstanceOf(EnvelopeIntegrityException.class);
  }

  @Test
  void open_sequenceRelabelled_failsAuthentication() throws Exception {
    SealedBatch b = sealer(Codec.LZ4, RotationPolicy.defaults()).seal(PayloadType.OTLP_TRACES, payload(3));
    byte[] moved = b.bytes().clone();
    ByteBuffer.wrap(moved).putLong(30, 7); // claim another position in the stream
    Opener opener = opener();
    opener.accept(b.keyRecord());
    assertThatThrownBy(() -> opener.open((SealedRecord) EnvelopeFormat.parse(moved)))
        .isInstanceOf(EnvelopeIntegrityException.class);
  }

  @Test
  void open_recordMovedToAnotherEpoch_isRefused() throws Exception {
    Sealer sealer = sealer(Codec.LZ4, new RotationPolicy(Duration.ofHours(1), 4, 1L << 30));
    SealedBatch first = sealer.seal(PayloadType.OTLP_TRACES, payload(1));
    SealedBatch later = null;
    for (int i = 0; i < 4; i++) {
      later = sealer.seal(PayloadType.OTLP_TRACES, payload(1));
    }
    assertThat(later.keyRecord().epoch()).isEqualTo(2);
    byte[] relabelled = first.bytes().clone();
    ByteBuffer.wrap(relabelled).putLong(22, 2); // claim epoch 2
    Opener opener = opener();
    opener.accept(first.keyRecord());
    opener.accept(later.keyRecord());
    assertThatThrownBy(() -> opener.open((SealedRecord) EnvelopeFormat.parse(relabelled)))
        .isInstanceOf(EnvelopeIntegrityException.class);
  }

  @Test
  void open_sameRecordTwice_isOutOfOrder() throws Exception {
    Sealer sealer = sealer(Codec.LZ4, RotationPolicy.defaults());
    SealedBatch a = sealer.seal(PayloadType.OTLP_TRACES, payload(1));
    SealedBatch b = sealer.seal(PayloadType.OTLP_TRACES, payload(2));
    Opener opener = opener();
    open(opener, b);
    assertThatThrownBy(() -> opener.open((SealedRecord) EnvelopeFormat.parse(a.bytes())))
        .isInstanceOf(OutOfOrderRecordException.class);
    assertThatThrownBy(() -> opener.open((SealedRecord) EnvelopeFormat.parse(b.bytes())))
        .isInstanceOf(OutOfOrderRecordException.class);
  }

  @Test
  void open_withoutKeyRecord_isUnknownEpoch() throws Exception {
    SealedBatch b = sealer(Codec.LZ4, RotationPolicy.defaults()).seal(PayloadType.OTLP_TRACES, payload(1));
    assertThatThrownBy(() -> opener().open((SealedRecord) EnvelopeFormat.parse(b.bytes())))
        .isInstanceOf(UnknownEpochException.class)
        .hasMessageContaining("no key record");
  }

  @Test
  void open_keyPairOfAnotherDeployment_isRefused() throws Exception {
    SealedBatch b = sealer(Codec.LZ4, RotationPolicy.defaults()).seal(PayloadType.OTLP_TRACES, payload(1));
    TestKeys other = TestKeys.in(tmp.resolve("other"));
    Opener opener = new Opener(other.unwrapper(), QUEUE);
    // The other deployment's verifier does not know this signing key: refused before any unwrap.
    assertThatThrownBy(() -> open(opener, b)).isInstanceOf(KeyRecordSignatureException.class);
    Opener noVerifier = new Opener(other.unwrapper().verifiedBy(keys.unwrapper().verifier()), QUEUE);
    assertThatThrownBy(() -> open(noVerifier, b)).isInstanceOf(UnknownEpochException.class);
  }

  @Test
  void parse_newerVersion_isUnsupportedVersionNamingIt() throws Exception {
    SealedBatch b = sealer(Codec.LZ4, RotationPolicy.defaults()).seal(PayloadType.OTLP_TRACES, payload(1));
    byte[] v3 = b.bytes().clone();
    v3[4] = 3;
    assertThatThrownBy(() -> EnvelopeFormat.parse(v3))
        .isInstanceOf(UnsupportedEnvelopeVersionException.class)
        .hasMessageContaining("version 3");
  }

  @Test
  void parse_notSpillway_namesTheMagic() {
    assertThatThrownBy(() -> EnvelopeFormat.parse("hello, world, this is plain text".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(EnvelopeFormatException.class)
        .hasMessageContaining("magic");
  }

  @Test
  void parse_unknownCodecOrType_isNamed() throws Exception {
    SealedBatch b = sealer(Codec.LZ4, RotationPolicy.defaults()).seal(PayloadType.OTLP_TRACES, payload(1));
    byte[] codec = b.bytes().clone();
    codec[47] = 9;
    assertThatThrownBy(() -> EnvelopeFormat.parse(codec)).hasMessageContaining("unknown codec 9");
    byte[] type = b.bytes().clone();
    type[48] = 9;
    assertThatThrownBy(() -> EnvelopeFormat.parse(type)).hasMessageContaining("unknown payload type 9");
  }

  @Test
  void seal_rotatesByRecordCount() throws Exception {
    Sealer sealer = sealer(Codec.LZ4, new RotationPolicy(Duration.ofHours(1), 8, 1L << 30));
    long maxEpoch = 0;
    for (int i = 0; i < 40; i++) {
      SealedBatch b = sealer.seal(PayloadType.OTLP_TRACES, payload(1));
      maxEpoch = Math.max(maxEpoch, b.keyRecord().epoch());
    }
    // Healthy provider: rotation at 3/4 of the limit, so every 6 records.
    assertThat(maxEpoch).isEqualTo(7);
    assertThat(sealer.keyRequests()).isEqualTo(7);
  }

  @Test
  void seal_rotatesByBytes() throws Exception {
    byte[] p = payload(10);
    Sealer sealer = sealer(Codec.LZ4, new RotationPolicy(Duration.ofHours(1), 1000, p.length * 4L));
    SealedBatch first = sealer.seal(PayloadType.OTLP_TRACES, p);
    SealedBatch b = first;
    for (int i = 0; i < 4; i++) {
      b = sealer.seal(PayloadType.OTLP_TRACES, p);
    }
    assertThat(first.keyRecord().epoch()).isEqualTo(1);
    assertThat(b.keyRecord().epoch()).isGreaterThan(1);
  }

  @Test
  void seal_rotatesByAge() throws Exception {
    Sealer sealer = sealer(Codec.LZ4, new RotationPolicy(Duration.ofMinutes(4), 1000, 1L << 30));
    assertThat(sealer.seal(PayloadType.OTLP_TRACES, payload(1)).keyRecord().epoch()).isEqualTo(1);
    clock.advance(Duration.ofMinutes(2));
    assertThat(sealer.seal(PayloadType.OTLP_TRACES, payload(1)).keyRecord().epoch()).isEqualTo(1);
    clock.advance(Duration.ofMinutes(1));
    assertThat(sealer.seal(PayloadType.OTLP_TRACES, payload(1)).keyRecord().epoch()).isEqualTo(2);
  }

  @Test
  void seal_providerDown_keepsCurrentKeyUntilSpentThenFailsClosedThenRecovers() throws Exception {
    ControllableIssuer issuer = new ControllableIssuer(keys.issuer());
    Sealer sealer = new Sealer(issuer, QUEUE, new RotationPolicy(Duration.ofHours(1), 8, 1L << 30), Codec.LZ4, clock);
    sealer.seal(PayloadType.OTLP_TRACES, payload(1)); // epoch 1, record 1
    issuer.down.set(true);
    for (int i = 1; i < 8; i++) {
      assertThat(sealer.seal(PayloadType.OTLP_TRACES, payload(1)).keyRecord().epoch()).isEqualTo(1);
    }
    assertThatThrownBy(() -> sealer.seal(PayloadType.OTLP_TRACES, payload(1)))
        .isInstanceOf(SealingUnavailableException.class);
    int callsWhileDown = issuer.calls.get();
    // Within the back-off window the provider is not asked again.
    assertThatThrownBy(() -> sealer.seal(PayloadType.OTLP_TRACES, payload(1)))
        .isInstanceOf(SealingUnavailableException.class);
    assertThat(issuer.calls.get()).isEqualTo(callsWhileDown);
    issuer.down.set(false);
    clock.advance(Sealer.ISSUE_RETRY_BACKOFF);
    SealedBatch b = sealer.seal(PayloadType.OTLP_TRACES, payload(1));
    assertThat(b.keyRecord().epoch()).isEqualTo(2);
    assertThat(open(opener(), b).payload()).isEqualTo(payload(1));
  }

  /**
   * An issuer a test controls, like a KMS that fails ({@code down}: refuses at once) or stops
   * answering ({@code hang}: calls wait until {@code release}).
   */
  static final class ControllableIssuer implements DataKeyIssuer {
    final DataKeyIssuer delegate;
    final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    final AtomicBoolean down = new AtomicBoolean();
    final AtomicBoolean hang = new AtomicBoolean();
    final AtomicInteger calls = new AtomicInteger();

    ControllableIssuer(DataKeyIssuer delegate) {
      this.delegate = delegate;
    }

    @Override
    public dev.spillway.core.keys.KeyProviderId provider() {
      return delegate.provider();
    }

    @Override
    public dev.spillway.core.keys.KeyRecordSigner signer() {
      return delegate.signer();
    }

    @Override
    public IssuedDataKey issue(KeyContext context) throws KeyUnavailableException {
      calls.incrementAndGet();
      if (down.get()) {
        throw new KeyUnavailableException("provider down (test)");
      }
      if (hang.get()) {
        try {
          release.await();
        } catch (InterruptedException e) {
          throw new KeyUnavailableException("interrupted", e);
        }
      }
      return delegate.issue(context);
    }
  }

  @Test
  void seal_backgroundKeyFetch_silentProviderNeverBlocksSealing() throws Exception {
    java.util.concurrent.ExecutorService fetcher = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      ControllableIssuer issuer = new ControllableIssuer(keys.issuer());
      Sealer sealer = new Sealer(issuer, QUEUE, new RotationPolicy(Duration.ofHours(1), 8, 1L << 30),
          Codec.LZ4, clock, fetcher);
      sealer.prefetch();
      sealer.awaitKey(); // epoch 1, fetched in the background
      sealer.seal(PayloadType.OTLP_TRACES, payload(1));
      issuer.hang.set(true);
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
        for (int i = 1; i < 8; i++) {
          assertThat(sealer.seal(PayloadType.OTLP_TRACES, payload(1)).keyRecord().epoch()).isEqualTo(1);
        }
        // Spent, and the provider still silent: fail fast, again and again, never hang.
        for (int i = 0; i < 3; i++) {
          assertThatThrownBy(() -> sealer.seal(PayloadType.OTLP_TRACES, payload(1)))
              .isInstanceOf(SealingUnavailableException.class);
        }
      });
      for (int i = 0; i < 500 && issuer.calls.get() < 2; i++) {
        Thread.sleep(10); // the fetcher thread makes the call
      }
      assertThat(issuer.calls.get()).as("one request under way, not one per seal").isEqualTo(2);
      issuer.release.countDown(); // the provider answers
      SealedBatch b = null;
      for (int i = 0; i < 200 && b == null; i++) {
        try {
          b = sealer.seal(PayloadType.OTLP_TRACES, payload(1));
        } catch (SealingUnavailableException e) {
          Thread.sleep(10); // the answer is on its way from the fetcher thread
        }
      }
      assertThat(b).isNotNull();
      assertThat(b.keyRecord().epoch()).isEqualTo(2);
      assertThat(open(opener(), b).payload()).isEqualTo(payload(1));
    } finally {
      fetcher.shutdownNow();
    }
  }

  @Test
  void awaitKey_keySpentByAgeWhileIdle_asksAndWaitsOutsideTheSeal() throws Exception {
    java.util.concurrent.ExecutorService fetcher = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      ControllableIssuer issuer = new ControllableIssuer(keys.issuer());
      Sealer sealer = new Sealer(issuer, QUEUE, new RotationPolicy(Duration.ofHours(1), 1000, 1L << 30),
          Codec.LZ4, clock, fetcher);
      sealer.prefetch();
      sealer.awaitKey();
      assertThat(sealer.seal(PayloadType.OTLP_TRACES, payload(1)).keyRecord().epoch()).isEqualTo(1);
      clock.advance(Duration.ofMinutes(61)); // idle past the key's age: no rotation was started early
      sealer.awaitKey();
      SealedBatch b = sealer.seal(PayloadType.OTLP_TRACES, payload(1));
      assertThat(b.keyRecord().epoch()).isEqualTo(2);
      assertThat(open(opener(), b).payload()).isEqualTo(payload(1));
      assertThat(issuer.calls.get()).isEqualTo(2);
    } finally {
      fetcher.shutdownNow();
    }
  }

  @Test
  void prefetch_keyArrivingAtOnce_isTheKeyTheFirstSealUses() throws Exception {
    // A fetcher that runs the request on the caller: the key is there before prefetch returns,
    // as it is when a local provider's fetcher thread is quicker than the caller.
    ControllableIssuer issuer = new ControllableIssuer(keys.issuer());
    Sealer sealer = new Sealer(issuer, QUEUE, RotationPolicy.defaults(), Codec.LZ4, clock, Runnable::run);
    sealer.prefetch();
    sealer.prefetch(); // a second call while the key waits: no second request
    SealedBatch b = sealer.seal(PayloadType.OTLP_TRACES, payload(1));
    assertThat(b.keyRecord().epoch()).isEqualTo(1);
    assertThat(issuer.calls.get()).as("the prefetched key used, not thrown away").isEqualTo(1);
    assertThat(sealer.keyRequests()).isEqualTo(1);
  }

  @Test
  void release_lastBatch_reusesItsSequence() throws Exception {
    Sealer sealer = sealer(Codec.LZ4, RotationPolicy.defaults());
    SealedBatch a = sealer.seal(PayloadType.OTLP_TRACES, payload(1));
    sealer.release(a);
    assertThat(sealer.seal(PayloadType.OTLP_TRACES, payload(1)).sequence()).isEqualTo(a.sequence());
  }

}
