package dev.spillway.core.seal;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.subtle.AesGcmJce;
import dev.spillway.core.keys.DataKey;
import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.IssuedDataKey;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.keys.SecretAccess;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

/**
 * The write side of the envelope: seals batches for one writer stream. It holds a {@link
 * DataKeyIssuer}, which can create and wrap keys but never unwrap them, so a sealer cannot open
 * what it sealed.
 *
 * <p>A sealer owns a random 16-byte stream id and a sequence counter; every sealed batch gets the
 * next sequence number. It is not thread-safe: the spill writer calls it under its append lock,
 * which also keeps sequence order equal to append order.
 */
public final class Sealer implements AutoCloseable {
  /** After a failed key request, wait this long before asking the provider again. */
  static final Duration ISSUE_RETRY_BACKOFF = Duration.ofSeconds(1);

  private final DataKeyIssuer issuer;
  private final String queue;
  private final byte[] queueBytes;
  private final RotationPolicy policy;
  private final Codec codec;
  private final Clock clock;
  private final byte[] streamId = new byte[KeyContext.STREAM_ID_BYTES];

  private long nextSequence;
  private long epochNumber;
  private Epoch current;
  private long nextIssueAttemptMillis;
  private long keyRequests;

  /** One data key in use: its cipher, its key record, and what it has sealed so far. */
  private record Epoch(Aead aead, KeyRecord keyRecord, long startedAtMillis, long[] usage) {}

  public Sealer(DataKeyIssuer issuer, String queue, RotationPolicy policy, Codec codec, Clock clock) {
    this.issuer = Objects.requireNonNull(issuer, "issuer");
    this.queue = Objects.requireNonNull(queue, "queue");
    this.queueBytes = queue.getBytes(StandardCharsets.UTF_8);
    this.policy = Objects.requireNonNull(policy, "policy");
    this.codec = Objects.requireNonNull(codec, "codec");
    this.clock = Objects.requireNonNull(clock, "clock");
    new SecureRandom().nextBytes(streamId);
  }

  /** This writer stream's id. */
  public byte[] streamId() {
    return streamId.clone();
  }

  /** How many times this sealer asked its key provider for a data key (successful or not). */
  public long keyRequests() {
    return keyRequests;
  }

  /** The key record of the epoch in use, or null before the first seal. */
  public KeyRecord currentKeyRecord() {
    return current == null ? null : current.keyRecord;
  }

  /**
   * Compresses and seals one payload under the current epoch, rotating the data key when the
   * policy says so.
   *
   * @throws SealingUnavailableException when no data key can be had: the caller refuses the batch
   *     with back-pressure; nothing is written
   */
  public SealedBatch seal(PayloadType type, byte[] payload) throws SealingUnavailableException {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(payload, "payload");
    if (payload.length > EnvelopeFormat.MAX_PLAINTEXT_BYTES) {
      throw new IllegalArgumentException(
          "payload of " + payload.length + " bytes exceeds " + EnvelopeFormat.MAX_PLAINTEXT_BYTES);
    }
    long now = clock.millis();
    Epoch epoch = epochFor(payload.length, now);
    byte[] compressed = codec.compress(payload);
    long sequence = nextSequence;
    int ciphertextLength = compressed.length + EnvelopeFormat.GCM_OVERHEAD;
    byte[] record = new byte[EnvelopeFormat.BATCH_HEADER + ciphertextLength];
    EnvelopeFormat.writeBatchHeader(
        ByteBuffer.wrap(record),
        streamId,
        epoch.keyRecord.epoch(),
        sequence,
        now,
        codec,
        type,
        payload.length,
        ciphertextLength);
    byte[] ciphertext;
    try {
      ciphertext = epoch.aead.encrypt(compressed, EnvelopeFormat.associatedData(record, queueBytes));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed", e);
    }
    if (ciphertext.length != ciphertextLength) {
      throw new IllegalStateException("unexpected AES-GCM output length " + ciphertext.length);
    }
    System.arraycopy(ciphertext, 0, record, EnvelopeFormat.BATCH_HEADER, ciphertextLength);
    nextSequence++;
    epoch.usage[0]++;
    epoch.usage[1] += payload.length;
    return new SealedBatch(epoch.keyRecord, sequence, now, record, payload.length);
  }

  /**
   * Gives back the sequence number of a batch that could not be stored, so the stream has no gap.
   * Only the most recent batch can be given back.
   */
  public void release(SealedBatch batch) {
    if (batch.sequence() == nextSequence - 1) {
      nextSequence--;
    }
  }

  private Epoch epochFor(int payloadLength, long now) throws SealingUnavailableException {
    if (current != null) {
      long age = now - current.startedAtMillis;
      long records = current.usage[0];
      long bytes = current.usage[1];
      boolean spent =
          age >= policy.maxAge().toMillis()
              || records >= policy.maxRecords()
              || bytes + payloadLength > policy.maxBytes();
      boolean due =
          age >= policy.maxAge().toMillis() / 4 * 3
              || records >= policy.maxRecords() / 4 * 3
              || bytes + payloadLength > policy.maxBytes() / 4 * 3;
      if (!due) {
        return current;
      }
      if (!spent && now < nextIssueAttemptMillis) {
        return current; // provider failed recently; keep the current key while it lasts
      }
      try {
        rotate(now);
      } catch (KeyUnavailableException e) {
        if (!spent) {
          return current;
        }
        retire();
        throw new SealingUnavailableException(
            "data key epoch is spent and the key provider cannot issue a new one: " + e.getMessage(), e);
      }
      return current;
    }
    if (now < nextIssueAttemptMillis) {
      throw new SealingUnavailableException(
          "no data key: the key provider failed less than " + ISSUE_RETRY_BACKOFF.toMillis() + " ms ago", null);
    }
    try {
      rotate(now);
    } catch (KeyUnavailableException e) {
      throw new SealingUnavailableException("no data key: " + e.getMessage(), e);
    }
    return current;
  }

  private void rotate(long now) throws KeyUnavailableException {
    long nextEpoch = epochNumber + 1;
    KeyContext ctx = new KeyContext(queue, streamId, nextEpoch);
    keyRequests++;
    IssuedDataKey issued;
    try {
      issued = issuer.issue(ctx);
    } catch (KeyUnavailableException e) {
      nextIssueAttemptMillis = now + ISSUE_RETRY_BACKOFF.toMillis();
      throw e;
    }
    Aead aead;
    byte[] raw = issued.plaintext().bytes(SecretAccess.insecure());
    try {
      aead = new AesGcmJce(raw);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build AES-256-GCM from the issued data key", e);
    } finally {
      Arrays.fill(raw, (byte) 0);
      issued.plaintext().destroy();
    }
    byte[] encoded = EnvelopeFormat.encodeKeyRecord(ctx, issued.wrapped(), now);
    retire();
    epochNumber = nextEpoch;
    current =
        new Epoch(
            aead, new KeyRecord(streamId.clone(), nextEpoch, issued.wrapped(), now, encoded), now, new long[2]);
  }

  /** Drops the current data key; the JCE's internal copy goes with the cipher object. */
  private void retire() {
    current = null;
  }

  /** Forgets the data key, so this process can no longer seal under (or derive) it. */
  @Override
  public void close() {
    retire();
  }
}
