package dev.spillway.core.seal;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.subtle.AesGcmJce;
import dev.spillway.core.keys.DataKey;
import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.keys.KeyRefusedException;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.keys.SecretAccess;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The read side of the envelope: opens sealed batches of one queue. It holds a {@link
 * DataKeyUnwrapper}; only the draining side has one.
 *
 * <p>Key records are remembered as they are read; a wrapped key is unwrapped on first use and the
 * cipher is cached (bounded, least recently used first out). Sequence numbers are checked per
 * stream: a record at or below one already opened from the same stream is refused as out of
 * order. Not thread-safe: one drain loop owns it.
 */
public final class Opener {
  /** Default bound on unwrapped data keys held at once. */
  public static final int DEFAULT_MAX_CACHED_KEYS = 64;
  /** Bound on wrapped keys remembered from key records. */
  static final int MAX_KNOWN_EPOCHS = 16_384;

  private final DataKeyUnwrapper unwrapper;
  private final String queue;
  private final byte[] queueBytes;
  private final Map<EpochId, KeyRecord> known = lru(MAX_KNOWN_EPOCHS);
  private final Map<EpochId, Aead> ciphers;
  private final Map<StreamKey, Long> lastSequence = new HashMap<>();
  private long unwrapCalls;

  private record StreamKey(String hex) {}

  public Opener(DataKeyUnwrapper unwrapper, String queue, int maxCachedKeys) {
    this.unwrapper = Objects.requireNonNull(unwrapper, "unwrapper");
    this.queue = Objects.requireNonNull(queue, "queue");
    this.queueBytes = queue.getBytes(StandardCharsets.UTF_8);
    if (maxCachedKeys < 1) {
      throw new IllegalArgumentException("maxCachedKeys must be >= 1");
    }
    this.ciphers = lru(maxCachedKeys);
  }

  public Opener(DataKeyUnwrapper unwrapper, String queue) {
    this(unwrapper, queue, DEFAULT_MAX_CACHED_KEYS);
  }

  /** Remembers a key record so batches of its epoch can be opened. */
  public void accept(KeyRecord keyRecord) {
    known.put(keyRecord.epochId(), keyRecord);
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

  /** Forgets which sequence numbers were seen, e.g. after the reader was repositioned. */
  public void resetSequenceTracking() {
    lastSequence.clear();
  }

  /** How many unwrap calls reached the key provider. */
  public long unwrapCalls() {
    return unwrapCalls;
  }

  /**
   * Authenticates, decrypts and decompresses one sealed batch.
   *
   * @throws EnvelopeException for good: quarantine the record
   * @throws KeyUnavailableException the key provider cannot answer now: keep the record and retry
   */
  public OpenedBatch open(SealedRecord record) throws EnvelopeException, KeyUnavailableException {
    EpochId id = record.epochId();
    Aead aead = cipherFor(id);
    byte[] encoded = record.encoded();
    byte[] ciphertext = Arrays.copyOfRange(encoded, EnvelopeFormat.BATCH_HEADER, encoded.length);
    byte[] compressed;
    try {
      compressed = aead.decrypt(ciphertext, EnvelopeFormat.associatedData(encoded, queueBytes));
    } catch (GeneralSecurityException e) {
      throw new EnvelopeIntegrityException(
          "sealed batch " + id + " #" + record.sequence() + " failed authentication"
              + " (altered, moved from another queue, position or epoch, or another key)");
    }
    byte[] payload = record.codec().decompress(compressed, record.plaintextLength());
    StreamKey stream = new StreamKey(id.toString().substring(0, 32));
    Long last = lastSequence.get(stream);
    if (last != null && record.sequence() <= last) {
      throw new OutOfOrderRecordException(
          "sealed batch " + id + " #" + record.sequence() + " comes after #" + last + " of the same stream");
    }
    lastSequence.put(stream, record.sequence());
    return new OpenedBatch(id, record.sequence(), record.sealedAtMillis(), record.payloadType(), payload);
  }

  private Aead cipherFor(EpochId id) throws UnknownEpochException, KeyUnavailableException {
    Aead aead = ciphers.get(id);
    if (aead != null) {
      return aead;
    }
    KeyRecord keyRecord = known.get(id);
    if (keyRecord == null) {
      throw new UnknownEpochException("no key record for epoch " + id + " precedes this batch");
    }
    DataKey dek;
    try {
      unwrapCalls++;
      dek = unwrapper.unwrap(keyRecord.wrapped(), keyRecord.context(queue));
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
