package dev.spillway.core.internal.seal;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.subtle.AesGcmJce;
import dev.spillway.core.keys.DataKey;
import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.keys.KeyProviderId;
import dev.spillway.core.keys.KeyRecordVerifier;
import dev.spillway.core.keys.KeyRefusedException;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.keys.SecretAccess;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The read side of the envelope: opens sealed batches of one deployment and queue. It holds a
 * {@link DataKeyUnwrapper}; only the draining side has one.
 *
 * <p>Key records are remembered as they are read. Before a wrapped key is first unwrapped, its key
 * record's signature is checked with the unwrapper's {@link DataKeyUnwrapper#verifier() verifier}
 * (refused: {@link KeyRecordSignatureException}); the cipher is then cached (bounded, least
 * recently used first out). A reader without a verifier accepts only unsigned {@code aws-kms} key
 * records.
 *
 * <p>Sequence numbers are checked per stream against {@link StreamWatermarks}: a record at or
 * below one already accepted from its stream is refused as out of order. The check starts from a
 * baseline (the drain's committed watermarks, persisted across restarts) and {@link
 * #resetSequenceTracking()} returns to it. Every opened batch says how many records of its stream
 * were never seen before it ({@link OpenedBatch#missingBefore()}): gaps are reported, not refused.
 *
 * <p>Not thread-safe: one drain loop owns it.
 */
public final class Opener {
  /** Default bound on unwrapped data keys held at once. */
  public static final int DEFAULT_MAX_CACHED_KEYS = 64;
  /** Bound on wrapped keys remembered from key records. */
  static final int MAX_KNOWN_EPOCHS = 16_384;

  private final DataKeyUnwrapper unwrapper;
  private final KeyRecordVerifier verifier;
  private final DeploymentId deployment;
  private final byte[] deploymentBytes;
  private final String queue;
  private final byte[] queueBytes;
  private final Map<EpochId, KeyRecord> known = lru(MAX_KNOWN_EPOCHS);
  private final Map<EpochId, Aead> ciphers;
  private StreamWatermarks baseline;
  private StreamWatermarks accepted;
  private long unwrapCalls;
  private long missingRecords;

  /** An opener of an {@link DeploymentId#UNNAMED unnamed} deployment, starting with no watermarks. */
  public Opener(DataKeyUnwrapper unwrapper, String queue, int maxCachedKeys) {
    this(unwrapper, DeploymentId.UNNAMED, queue, maxCachedKeys, new StreamWatermarks());
  }

  /** An opener of an {@link DeploymentId#UNNAMED unnamed} deployment, starting with no watermarks. */
  public Opener(DataKeyUnwrapper unwrapper, String queue) {
    this(unwrapper, queue, DEFAULT_MAX_CACHED_KEYS);
  }

  /**
   * @param deployment the deployment the records must be bound to (the writer's)
   * @param committed the watermarks of what was already accepted (copied; the drain's persisted
   *     committed watermarks after a restart, an empty table otherwise)
   */
  public Opener(
      DataKeyUnwrapper unwrapper,
      DeploymentId deployment,
      String queue,
      int maxCachedKeys,
      StreamWatermarks committed) {
    this.unwrapper = Objects.requireNonNull(unwrapper, "unwrapper");
    this.verifier = unwrapper.verifier();
    this.deployment = Objects.requireNonNull(deployment, "deployment");
    this.deploymentBytes = deployment.toBytes();
    this.queue = Objects.requireNonNull(queue, "queue");
    this.queueBytes = queue.getBytes(StandardCharsets.UTF_8);
    if (maxCachedKeys < 1) {
      throw new IllegalArgumentException("maxCachedKeys must be >= 1");
    }
    this.ciphers = lru(maxCachedKeys);
    resetSequenceTracking(committed);
  }

  /** Remembers a key record so batches of its epoch can be opened (its signature is checked then). */
  public void accept(KeyRecord keyRecord) {
    EpochId id = keyRecord.epochId();
    if (ciphers.containsKey(id)) {
      return; // verified and unwrapped already: a later record claiming the epoch changes nothing
    }
    KeyRecord prior = known.get(id);
    if (prior != null && passes(prior) && !passes(keyRecord)) {
      return; // a forgery placed after the genuine record must not shadow it
    }
    known.put(id, keyRecord);
  }

  private boolean passes(KeyRecord keyRecord) {
    try {
      checkSignature(keyRecord.epochId(), keyRecord);
      return true;
    } catch (KeyRecordSignatureException e) {
      return false;
    }
  }

  /** Whether a key record for this epoch has been seen. */
  public boolean knows(EpochId epoch) {
    return known.containsKey(epoch);
  }

  /** Forgets an epoch's wrapped and unwrapped key (crypto-shredding once its data is gone). */
  public void forget(EpochId epoch) {
    known.remove(epoch);
    ciphers.remove(epoch);
  }

  /**
   * Goes back to the baseline watermarks, forgetting what was accepted since, e.g. after the
   * reader was repositioned at the committed position.
   */
  public void resetSequenceTracking() {
    accepted = baseline.copy();
  }

  /** Makes {@code committed} (copied) the new baseline and goes back to it. */
  public void resetSequenceTracking(StreamWatermarks committed) {
    this.baseline = Objects.requireNonNull(committed, "committed").copy();
    this.accepted = baseline.copy();
  }

  /** How many unwrap calls reached the key provider. */
  public long unwrapCalls() {
    return unwrapCalls;
  }

  /** Records found missing inside streams already seen (the sum of their gaps) since creation. */
  public long missingRecords() {
    return missingRecords;
  }

  /**
   * Authenticates, decrypts and decompresses one sealed batch, and checks its sequence.
   *
   * @throws EnvelopeException for good: quarantine the record
   * @throws KeyUnavailableException the key provider cannot answer now: keep the record and retry
   */
  public OpenedBatch open(SealedRecord record) throws EnvelopeException, KeyUnavailableException {
    return open(record, true);
  }

  /**
   * As {@link #open(SealedRecord)}; with {@code decompress} false the batch is authenticated and
   * its sequence checked and accepted, but the payload is not decompressed ({@link
   * OpenedBatch#payload()} is null): for a reader that holds the plaintext already (its own
   * append, or a copy delivered from memory) and must still authenticate what is on disk.
   */
  public OpenedBatch open(SealedRecord record, boolean decompress)
      throws EnvelopeException, KeyUnavailableException {
    EpochId id = record.epochId();
    Aead aead = cipherFor(id);
    byte[] encoded = record.encoded();
    byte[] ciphertext = Arrays.copyOfRange(encoded, EnvelopeFormat.BATCH_HEADER, encoded.length);
    byte[] compressed;
    try {
      compressed =
          aead.decrypt(ciphertext, EnvelopeFormat.associatedData(encoded, deploymentBytes, queueBytes));
    } catch (GeneralSecurityException e) {
      throw new EnvelopeIntegrityException(
          "sealed batch " + id + " #" + record.sequence() + " failed authentication"
              + " (altered, moved from another deployment, queue, position or epoch, or another key)");
    }
    // Header fields are authentic from here on.
    StreamWatermarks.Check check =
        accepted.check(record.streamId(), record.sequence(), record.sealedAtMillis());
    byte[] payload = decompress ? record.codec().decompress(compressed, record.plaintextLength()) : null;
    accepted.advance(record.streamId(), record.sequence(), record.sealedAtMillis());
    if (!check.firstOfStream()) {
      missingRecords += check.missingBefore();
    }
    return new OpenedBatch(id, record.sequence(), record.sealedAtMillis(), record.payloadType(), payload,
        check.missingBefore(), check.firstOfStream());
  }

  private Aead cipherFor(EpochId id) throws EnvelopeException, KeyUnavailableException {
    Aead aead = ciphers.get(id);
    if (aead != null) {
      return aead;
    }
    KeyRecord keyRecord = known.get(id);
    if (keyRecord == null) {
      throw new UnknownEpochException("no key record for epoch " + id + " precedes this batch");
    }
    checkSignature(id, keyRecord);
    DataKey dek;
    try {
      unwrapCalls++;
      dek = unwrapper.unwrap(keyRecord.wrapped(), keyRecord.context(deployment, queue));
    } catch (KeyRefusedException e) {
      throw new UnknownEpochException("the data key of epoch " + id + " was refused: " + e.getMessage(), e);
    }
    byte[] raw = dek.bytes(SecretAccess.insecure());
    try {
      aead = new AesGcmJce(raw);
    } catch (GeneralSecurityException e) {
      throw new UnknownEpochException("the data key of epoch " + id + " is not an AES-256 key", e);
    } finally {
      Arrays.fill(raw, (byte) 0);
      dek.destroy();
    }
    ciphers.put(id, aead);
    return aead;
  }

  /**
   * Key records of keys wrapped with a public key ({@code local}, {@code aws-kms-rsa}) must carry
   * a valid signature; so must {@code aws-kms} ones where the unwrapper has a verifier for them
   * ({@link DataKeyUnwrapper#requiresSignature}). An unsigned {@code aws-kms} key record is
   * otherwise accepted: its wrapped key is a KMS ciphertext, which nobody makes without KMS
   * permission on the key.
   */
  private void checkSignature(EpochId id, KeyRecord keyRecord) throws KeyRecordSignatureException {
    KeyProviderId provider = keyRecord.wrapped().provider();
    boolean required = unwrapper.requiresSignature(keyRecord.wrapped());
    if (required && verifier == null) {
      throw new KeyRecordSignatureException(
          "key record of epoch " + id + " (" + provider.configName() + ") cannot be checked: this reader"
              + " has no verifying key (verifier.json), and " + provider.configName()
              + " keys are wrapped with a public key anyone may hold");
    }
    if (!keyRecord.isSigned()) {
      if (required) {
        throw new KeyRecordSignatureException(
            "key record of epoch " + id + " (" + provider.configName() + ") is not signed: forged, or"
                + " written by a writer without its signing key");
      }
      return;
    }
    if (verifier == null) {
      return; // a signed aws-kms record, and nothing to check it with: KMS binds its context
    }
    byte[] statement = EnvelopeFormat.keyStatement(
        keyRecord.encoded(), keyRecord.signedLength(), deployment, queue);
    if (!verifier.verifies(keyRecord.signature(), statement)) {
      throw new KeyRecordSignatureException(
          "key record of epoch " + id + " has no valid signature for deployment " + deployment
              + ", queue " + queue + " (forged, altered, or copied from another deployment or queue)");
    }
  }

  private static <K, V> Map<K, V> lru(int max) {
    return new LinkedHashMap<>(16, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > max;
      }
    };
  }
}
