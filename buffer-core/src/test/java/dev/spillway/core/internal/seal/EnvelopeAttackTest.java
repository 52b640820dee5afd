package dev.spillway.core.internal.seal;

import dev.spillway.core.QuarantineReason;
import dev.spillway.core.RotationPolicy;
import dev.spillway.core.PayloadType;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.keys.DataKey;
import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyRefusedException;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.core.keys.WrappedDataKey;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attacks of issue #13 against the envelope itself: forgery with only the public writer key,
 * a copy from another deployment with the same keys, replay after a restart, deleted records, and
 * version-1 records.
 */
class EnvelopeAttackTest {
  static final String QUEUE = "spillway";
  static final DeploymentId NODE_A = DeploymentId.of("node-a");
  static final DeploymentId NODE_B = DeploymentId.of("node-b");

  @TempDir Path tmp;
  TestKeys keys;
  MutableClock clock = new MutableClock(Instant.parse("2026-11-30T00:00:00Z"));

  @BeforeEach
  void setUp() {
    keys = TestKeys.in(tmp.resolve("keys"));
  }

  static byte[] payload(int i) {
    return ("span " + i + " enduser.id=CANARY-" + i).repeat(10).getBytes(StandardCharsets.UTF_8);
  }

  Sealer sealer(DeploymentId deployment, DataKeyIssuer issuer) {
    return new Sealer(issuer, deployment, QUEUE, RotationPolicy.defaults(), Codec.LZ4, clock, null);
  }

  Opener opener(DeploymentId deployment, StreamWatermarks committed) {
    return new Opener(keys.unwrapper(), deployment, QUEUE, Opener.DEFAULT_MAX_CACHED_KEYS, committed);
  }

  static OpenedBatch open(Opener opener, SealedBatch b) throws Exception {
    opener.accept((KeyRecord) EnvelopeFormat.parse(b.keyRecord().encoded()));
    return opener.open((SealedRecord) EnvelopeFormat.parse(b.bytes()));
  }

  /** The attacker's issuer: the victim's public writer.json, and a signing key of their own. */
  DataKeyIssuer attackerIssuer() throws Exception {
    Path attacker = tmp.resolve("attacker");
    LocalKeys.init(attacker);
    Files.copy(keys.dir().resolve(LocalKeys.WRITER_FILE), attacker.resolve(LocalKeys.WRITER_FILE),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return LocalKeys.issuer(attacker.resolve(LocalKeys.WRITER_FILE));
  }

  @Test
  void open_recordsForgedWithOnlyWriterJsonAndAnotherSigningKey_areRefusedAsForged() throws Exception {
    SealedBatch forged = sealer(DeploymentId.UNNAMED, attackerIssuer()).seal(PayloadType.OTLP_TRACES, payload(1));
    assertThatThrownBy(() -> open(opener(DeploymentId.UNNAMED, new StreamWatermarks()), forged))
        .isInstanceOf(KeyRecordSignatureException.class)
        .hasMessageContaining("no valid signature")
        .extracting(e -> ((EnvelopeException) e).reason())
        .isEqualTo(QuarantineReason.FORGED_KEY);
  }

  @Test
  void open_recordsForgedWithOnlyWriterJsonAndNoSignature_areRefusedAsForged() throws Exception {
    SealedBatch forged = sealer(DeploymentId.UNNAMED, attackerIssuer()).seal(PayloadType.OTLP_TRACES, payload(1));
    KeyRecord k = forged.keyRecord();
    byte[] unsigned = ByteBuffer.allocate(k.signedLength() + 2).put(k.encoded(), 0, k.signedLength())
        .putShort((short) 0).array();
    Opener opener = opener(DeploymentId.UNNAMED, new StreamWatermarks());
    opener.accept((KeyRecord) EnvelopeFormat.parse(unsigned));
    assertThatThrownBy(() -> opener.open((SealedRecord) EnvelopeFormat.parse(forged.bytes())))
        .isInstanceOf(KeyRecordSignatureException.class)
        .hasMessageContaining("not signed");
  }

  @Test
  void open_localKeyRecordWithAReaderWithoutVerifier_isRefused() throws Exception {
    SealedBatch b = sealer(DeploymentId.UNNAMED, keys.issuer()).seal(PayloadType.OTLP_TRACES, payload(1));
    DataKeyUnwrapper bare = new DataKeyUnwrapper() { // the unwrapper without its verifier
      @Override
      public boolean accepts(WrappedDataKey wrapped) {
        return keys.unwrapper().accepts(wrapped);
      }

      @Override
      public DataKey unwrap(WrappedDataKey wrapped, KeyContext context)
          throws KeyUnavailableException, KeyRefusedException {
        return keys.unwrapper().unwrap(wrapped, context);
      }
    };
    assertThatThrownBy(() -> open(new Opener(bare, QUEUE), b))
        .isInstanceOf(KeyRecordSignatureException.class)
        .hasMessageContaining("no verifying key");
  }

  @Test
  void accept_forgedKeyRecordAfterTheGenuineOne_doesNotShadowIt() throws Exception {
    SealedBatch genuine = sealer(DeploymentId.UNNAMED, keys.issuer()).seal(PayloadType.OTLP_TRACES, payload(1));
    KeyRecord k = genuine.keyRecord();
    byte[] altered = k.encoded().clone();
    altered[k.signedLength() - 3] ^= 1; // inside the wrapped key
    Opener opener = opener(DeploymentId.UNNAMED, new StreamWatermarks());
    opener.accept((KeyRecord) EnvelopeFormat.parse(k.encoded()));
    opener.accept((KeyRecord) EnvelopeFormat.parse(altered));
    assertThat(opener.open((SealedRecord) EnvelopeFormat.parse(genuine.bytes())).payload()).isEqualTo(payload(1));
  }

  @Test
  void open_segmentCopiedFromAnotherDeploymentWithTheSameKeys_isRefused() throws Exception {
    SealedBatch fromA = sealer(NODE_A, keys.issuer()).seal(PayloadType.OTLP_TRACES, payload(1));
    assertThat(open(opener(NODE_A, new StreamWatermarks()), fromA).payload()).isEqualTo(payload(1));
    assertThatThrownBy(() -> open(opener(NODE_B, new StreamWatermarks()), fromA))
        .isInstanceOf(KeyRecordSignatureException.class)
        .hasMessageContaining("node-b");
    assertThatThrownBy(() -> open(opener(DeploymentId.UNNAMED, new StreamWatermarks()), fromA))
        .isInstanceOf(KeyRecordSignatureException.class);
  }

  @Test
  void unwrap_keyOfAnotherDeployment_isRefusedByHpkeToo() throws Exception {
    byte[] stream = new byte[16];
    var issued = keys.issuer().issue(new KeyContext(QUEUE, stream, 1, NODE_A));
    assertThatThrownBy(() -> keys.unwrapper().unwrap(issued.wrapped(), new KeyContext(QUEUE, stream, 1, NODE_B)))
        .isInstanceOf(KeyRefusedException.class);
  }

  /**
   * A key provider that ignores the context (as a careless KMS policy might), so only the batch's
   * associated data can tell the deployments apart.
   */
  static final class ContextBlindKms implements DataKeyIssuer, DataKeyUnwrapper {
    final byte[] key = new byte[32];

    @Override
    public dev.spillway.core.keys.KeyProviderId provider() {
      return dev.spillway.core.keys.KeyProviderId.AWS_KMS;
    }

    @Override
    public dev.spillway.core.keys.IssuedDataKey issue(KeyContext context) {
      return new dev.spillway.core.keys.IssuedDataKey(
          DataKey.adopt(key.clone(), dev.spillway.core.keys.SecretAccess.insecure()),
          new WrappedDataKey(provider(), "arn:aws:kms:eu-west-1:111122223333:key/test", new byte[] {1}));
    }

    @Override
    public boolean accepts(WrappedDataKey wrapped) {
      return true;
    }

    @Override
    public DataKey unwrap(WrappedDataKey wrapped, KeyContext context) {
      return DataKey.adopt(key.clone(), dev.spillway.core.keys.SecretAccess.insecure());
    }
  }

  @Test
  void open_batchOfAnotherDeploymentUnderAnAcceptedKey_failsAuthentication() throws Exception {
    ContextBlindKms kms = new ContextBlindKms();
    SealedBatch b = sealer(NODE_A, kms).seal(PayloadType.OTLP_TRACES, payload(1));
    Opener atA = new Opener(kms, NODE_A, QUEUE, 4, new StreamWatermarks());
    assertThat(open(atA, b).payload()).isEqualTo(payload(1));
    Opener atB = new Opener(kms, NODE_B, QUEUE, 4, new StreamWatermarks());
    assertThatThrownBy(() -> open(atB, b))
        .isInstanceOf(EnvelopeIntegrityException.class)
        .hasMessageContaining("another deployment");
  }

  @Test
  void open_unsignedAwsKmsRecord_withAPreviousLocalKeysetBeside_isAcceptedButRequiredOnceVerified() throws Exception {
    ContextBlindKms kms = new ContextBlindKms(); // an aws-kms key record, unsigned
    SealedBatch b = sealer(NODE_A, kms).seal(PayloadType.OTLP_TRACES, payload(1));
    assertThat(b.keyRecord().isSigned()).isFalse();
    // A drain moved from local keys to aws-kms: the old local reader (with its verifier) stays.
    DataKeyUnwrapper mixed = DataKeyUnwrapper.anyOf(List.of(kms, keys.unwrapper()));
    Opener opener = new Opener(mixed, NODE_A, QUEUE, 4, new StreamWatermarks());
    assertThat(open(opener, b).payload()).isEqualTo(payload(1));
    // A reader that was given a verifier for its aws-kms key requires signatures on those too.
    Opener strict = new Opener(kms.verifiedBy(keys.unwrapper().verifier()), NODE_A, QUEUE, 4, new StreamWatermarks());
    assertThatThrownBy(() -> open(strict, b)).isInstanceOf(KeyRecordSignatureException.class)
        .hasMessageContaining("not signed");
  }

  @Test
  void open_drainedRecordsCopiedBackAfterARestart_areRefusedAsReplayed() throws Exception {
    Sealer sealer = sealer(NODE_A, keys.issuer());
    List<SealedBatch> sealed = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      sealed.add(sealer.seal(PayloadType.OTLP_TRACES, payload(i)));
    }
    // The drain opens and commits all five, persisting the committed watermarks.
    Opener before = opener(NODE_A, new StreamWatermarks());
    StreamWatermarks committed = new StreamWatermarks();
    for (SealedBatch b : sealed) {
      OpenedBatch o = open(before, b);
      committed.advance(sealer.streamId(), o.sequence(), o.sealedAtMillis());
    }
    byte[] persisted = committed.toBytes();

    // Restart: a new opener from the persisted table. The segment copied back is refused.
    Opener after = opener(NODE_A,
        StreamWatermarks.fromBytes(persisted, "test", StreamWatermarks.DEFAULT_RETIRE_AFTER, 4096));
    for (SealedBatch b : sealed) {
      assertThatThrownBy(() -> open(after, b))
          .isInstanceOf(OutOfOrderRecordException.class)
          .hasMessageContaining("replayed");
    }
    SealedBatch next = sealer.seal(PayloadType.OTLP_TRACES, payload(5));
    OpenedBatch o = open(after, next);
    assertThat(o.payload()).isEqualTo(payload(5));
    assertThat(o.missingBefore()).isZero();
  }

  @Test
  void open_recordDeletedFromAStream_isReportedAsAGap() throws Exception {
    Sealer sealer = sealer(NODE_A, keys.issuer());
    List<SealedBatch> sealed = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      sealed.add(sealer.seal(PayloadType.OTLP_TRACES, payload(i)));
    }
    Opener opener = opener(NODE_A, new StreamWatermarks());
    long[] missing = new long[6];
    for (int i : new int[] {0, 1, 2, 4, 5}) { // #3 deleted
      missing[i] = open(opener, sealed.get(i)).missingBefore();
    }
    assertThat(missing).containsExactly(0, 0, 0, 0, 1, 0);
    assertThat(opener.missingRecords()).isEqualTo(1);
  }

  @Test
  void open_firstRecordsOfAStreamDeleted_isReportedAsMissingBeforeTheFirstSeen() throws Exception {
    Sealer sealer = sealer(NODE_A, keys.issuer());
    sealer.seal(PayloadType.OTLP_TRACES, payload(0));
    sealer.seal(PayloadType.OTLP_TRACES, payload(1));
    OpenedBatch o = open(opener(NODE_A, new StreamWatermarks()), sealer.seal(PayloadType.OTLP_TRACES, payload(2)));
    assertThat(o.firstOfStream()).isTrue();
    assertThat(o.missingBefore()).isEqualTo(2);
  }

  @Test
  void resetSequenceTracking_returnsToTheCommittedBaselineNotToNothing() throws Exception {
    Sealer sealer = sealer(NODE_A, keys.issuer());
    SealedBatch first = sealer.seal(PayloadType.OTLP_TRACES, payload(0));
    SealedBatch second = sealer.seal(PayloadType.OTLP_TRACES, payload(1));
    StreamWatermarks committed = new StreamWatermarks();
    committed.advance(sealer.streamId(), first.sequence(), first.sealedAtMillis());
    Opener opener = opener(NODE_A, committed);
    open(opener, second);
    opener.resetSequenceTracking(); // repositioned at the committed position: #1 comes again
    assertThat(open(opener, second).payload()).isEqualTo(payload(1));
    assertThatThrownBy(() -> open(opener, first)).isInstanceOf(OutOfOrderRecordException.class);
  }

  @Test
  void parse_version1Record_isRefusedSayingWhyAndWhatToDo() throws Exception {
    byte[] sample;
    try (var in = getClass().getResourceAsStream("samples/v1-one-batch-lz4")) {
      sample = in.readAllBytes();
    }
    ByteBuffer framed = ByteBuffer.wrap(sample);
    int n = 0;
    while (framed.remaining() >= 2) {
      byte[] record = new byte[framed.getShort() & 0xffff];
      framed.get(record);
      assertThat(record[4]).isEqualTo((byte) 1);
      assertThatThrownBy(() -> EnvelopeFormat.parse(record))
          .isInstanceOf(UnsupportedEnvelopeVersionException.class)
          .hasMessageContaining("no longer opens")
          .hasMessageContaining("quarantine");
      n++;
    }
    assertThat(n).isEqualTo(2); // a key record and a batch
  }

  @Test
  void parse_signatureLengthBeyondTheRecord_isFormatError() throws Exception {
    KeyRecord k = sealer(NODE_A, keys.issuer()).seal(PayloadType.OTLP_TRACES, payload(1)).keyRecord();
    byte[] b = k.encoded().clone();
    ByteBuffer.wrap(b).putShort(k.signedLength(), (short) 2000);
    assertThatThrownBy(() -> EnvelopeFormat.parse(b))
        .isInstanceOf(EnvelopeFormatException.class)
        .hasMessageContaining("signature of 2000 bytes");
    byte[] cut = Arrays.copyOf(k.encoded(), k.encoded().length - 1);
    assertThatThrownBy(() -> EnvelopeFormat.parse(cut)).isInstanceOf(EnvelopeFormatException.class);
  }

  @Test
  void sealer_localIssuerWithoutSigner_isRefusedAtConstruction() throws Exception {
    DataKeyIssuer unsigned = new DataKeyIssuer() {
      @Override
      public dev.spillway.core.keys.KeyProviderId provider() {
        return keys.issuer().provider();
      }

      @Override
      public dev.spillway.core.keys.IssuedDataKey issue(KeyContext context) throws KeyUnavailableException {
        return keys.issuer().issue(context);
      }
    };
    assertThatThrownBy(() -> sealer(NODE_A, unsigned))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("signer.json");
  }

  @Test
  void retiredStream_oldRecordCopiedBack_isRefusedButANewStreamPasses() throws Exception {
    StreamWatermarks committed = new StreamWatermarks(Duration.ofDays(1), 4096);
    Sealer old = sealer(NODE_A, keys.issuer());
    SealedBatch oldBatch = old.seal(PayloadType.OTLP_TRACES, payload(0));
    committed.advance(old.streamId(), 0, oldBatch.sealedAtMillis());
    clock.advance(Duration.ofDays(2));
    Sealer later = sealer(NODE_A, keys.issuer());
    SealedBatch laterBatch = later.seal(PayloadType.OTLP_TRACES, payload(1));
    committed.advance(later.streamId(), 0, laterBatch.sealedAtMillis());
    assertThat(committed.streams()).isEqualTo(1); // the old stream is retired
    Opener opener = opener(NODE_A, committed);
    assertThatThrownBy(() -> open(opener, oldBatch))
        .isInstanceOf(OutOfOrderRecordException.class)
        .hasMessageContaining("retired");
    Sealer fresh = sealer(NODE_A, keys.issuer());
    assertThat(open(opener, fresh.seal(PayloadType.OTLP_TRACES, payload(2))).payload()).isEqualTo(payload(2));
  }
}
