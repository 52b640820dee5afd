package dev.spillway.core.internal.seal;

import dev.spillway.core.RotationPolicy;
import dev.spillway.core.PayloadType;
import com.google.crypto.tink.Aead;
import com.google.crypto.tink.subtle.AesGcmJce;
import dev.spillway.core.keys.DataKey;
import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.keys.KeyProviderId;
import dev.spillway.core.keys.KeyRecordSigner;
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
import java.util.concurrent.Executor;

/**
 * The write side of the envelope: seals batches for one writer stream. It holds a {@link
 * DataKeyIssuer}, which can create and wrap keys but never unwrap them, so a sealer cannot open
 * what it sealed.
 *
 * <p>A sealer owns a random 16-byte stream id and a sequence counter; every sealed batch gets the
 * next sequence number. Every key record it writes is signed with the issuer's {@link
 * DataKeyIssuer#signer() signing key}, and every record is bound to its deployment and queue. It is not thread-safe: the spill writer calls it under its append lock,
 * which also keeps sequence order equal to append order.
 *
 * <p>Given an {@link Executor}, the sealer asks the provider for the next data key in the
 * background once rotation is due, so a slow or silent KMS never holds the append lock: sealing
 * goes on with the current key meanwhile, and fails fast (back-pressure) only when that key is
 * spent and no new one has arrived. With no key at all (the first, or after a failure), {@link
 * #seal} does not wait either: callers wait in {@link #awaitKey()} first, under none of their own
 * locks. Without an executor, key requests run on the caller.
 */
public final class Sealer implements AutoCloseable {
  /** After a failed key request, wait this long before asking the provider again. */
  static final Duration ISSUE_RETRY_BACKOFF = Duration.ofSeconds(1);
  /** How long {@link #awaitKey()} waits for this sealer's first data key, or a key asked for there. */
  static final Duration FIRST_KEY_WAIT = Duration.ofSeconds(2);
  /**
   * How long {@link #awaitKey()} waits for the next key, asked for when rotation came due, once
   * the current key is spent: a provider answering normally is in time, one that stalls costs one
   * offer this long, and offers are refused at once after it.
   */
  static final Duration NEXT_KEY_WAIT = Duration.ofMillis(100);

  private final DataKeyIssuer issuer;
  private final KeyRecordSigner signer;
  private final DeploymentId deployment;
  private final byte[] deploymentBytes;
  private final String queue;
  private final byte[] queueBytes;
  private final RotationPolicy policy;
  private final Codec codec;
  private final Clock clock;
  private final byte[] streamId = new byte[KeyContext.STREAM_ID_BYTES];
  /** Keys requested on a fetcher thread; null: requested on the caller's. */
  private final NextDataKey nextKey;

  // Written under the caller's lock; volatile because awaitKey() reads them under none.
  private volatile Epoch current;
  /** The epoch of the last key installed; 0 before the first. */
  private volatile long epochNumber;

  private long nextSequence;
  /** Without a fetcher: no key request before this (the provider failed). */
  private long nextIssueAttemptMillis;
  /** Without a fetcher: key requests made. */
  private volatile long keyRequests;

  /** One data key in use: its cipher, its key record, and what it has sealed so far. */
  private record Epoch(Aead aead, KeyRecord keyRecord, long startedAtMillis, long[] usage) {}

  /** A sealer of an {@link DeploymentId#UNNAMED unnamed} deployment that fetches keys on the caller. */
  public Sealer(DataKeyIssuer issuer, String queue, RotationPolicy policy, Codec codec, Clock clock) {
    this(issuer, DeploymentId.UNNAMED, queue, policy, codec, clock, null);
  }

  /** A sealer of an {@link DeploymentId#UNNAMED unnamed} deployment. */
  public Sealer(
      DataKeyIssuer issuer,
      String queue,
      RotationPolicy policy,
      Codec codec,
      Clock clock,
      Executor keyFetcher) {
    this(issuer, DeploymentId.UNNAMED, queue, policy, codec, clock, keyFetcher);
  }

  /**
   * @param deployment bound into every record; the reader must be given the same one
   * @param keyFetcher runs key requests off the caller's thread; null runs them on the caller
   * @throws IllegalArgumentException if the issuer's provider wraps with a public key ({@code
   *     local}, {@code aws-kms-rsa}) and the issuer has no {@link DataKeyIssuer#signer() signer}:
   *     its records would be forgeable by anyone holding that public key, and readers refuse them
   */
  public Sealer(
      DataKeyIssuer issuer,
      DeploymentId deployment,
      String queue,
      RotationPolicy policy,
      Codec codec,
      Clock clock,
      Executor keyFetcher) {
    this.issuer = Objects.requireNonNull(issuer, "issuer");
    this.signer = issuer.signer();
    if (signer == null && issuer.provider() != KeyProviderId.AWS_KMS) {
      throw new IllegalArgumentException(
          "the " + issuer.provider().configName() + " key provider wraps data keys with a public key,"
              + " so its key records must be signed: give the writer its signing key ("
              + "signer.json, made by 'spillway keys init' or 'keys rotate')");
    }
    this.deployment = Objects.requireNonNull(deployment, "deployment");
    this.deploymentBytes = deployment.toBytes();
    this.queue = Objects.requireNonNull(queue, "queue");
    this.queueBytes = queue.getBytes(StandardCharsets.UTF_8);
    this.policy = Objects.requireNonNull(policy, "policy");
    this.codec = Objects.requireNonNull(codec, "codec");
    this.clock = Objects.requireNonNull(clock, "clock");
    new SecureRandom().nextBytes(streamId);
    this.nextKey = keyFetcher == null ? null
        : new NextDataKey(issuer, keyFetcher, clock, ISSUE_RETRY_BACKOFF, this::keyContext);
  }

  /**
   * Starts fetching the first data key in the background, so the first seal does not wait for
   * the provider. No effect without a key fetcher or once a key is held or requested.
   */
  public void prefetch() {
    if (nextKey != null && current == null) {
      nextKey.request(epochNumber + 1); // only starts it: the first seal takes the key
    }
  }

  /** The deployment this sealer binds its records to. */
  public DeploymentId deployment() {
    return deployment;
  }

  /** This writer stream's id. */
  public byte[] streamId() {
    return streamId.clone();
  }

  /** How many times this sealer asked its key provider for a data key (successful or not). */
  public long keyRequests() {
    return nextKey == null ? keyRequests : nextKey.requests();
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
    return seal(type, compress(codec, payload));
  }

  /**
   * The compression step of {@link #seal(PayloadType, byte[])} alone. Unlike sealing it touches no
   * sealer's state, so callers may run it on many threads, outside whatever lock orders their
   * seals, and hand the result to {@link #seal(PayloadType, Compressed)} of a sealer that uses the
   * same codec.
   */
  public static Compressed compress(Codec codec, byte[] payload) {
    Objects.requireNonNull(codec, "codec");
    Objects.requireNonNull(payload, "payload");
    if (payload.length > EnvelopeFormat.MAX_PLAINTEXT_BYTES) {
      throw new IllegalArgumentException(
          "payload of " + payload.length + " bytes exceeds " + EnvelopeFormat.MAX_PLAINTEXT_BYTES);
    }
    return new Compressed(codec, codec.compress(payload), payload.length);
  }

  /**
   * Seals a payload that {@link #compress} already compressed with this sealer's codec.
   *
   * @throws SealingUnavailableException as {@link #seal(PayloadType, byte[])}
   */
  public SealedBatch seal(PayloadType type, Compressed payload) throws SealingUnavailableException {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(payload, "payload");
    if (payload.codec != codec) {
      throw new IllegalArgumentException("payload compressed with " + payload.codec + ", this sealer uses " + codec);
    }
    long now = clock.millis();
    Epoch epoch = epochFor(payload.plaintextLength, now);
    byte[] compressed = payload.bytes;
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
        payload.plaintextLength,
        ciphertextLength);
    byte[] ciphertext;
    try {
      ciphertext = epoch.aead.encrypt(compressed, EnvelopeFormat.associatedData(record, deploymentBytes, queueBytes));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed", e);
    }
    if (ciphertext.length != ciphertextLength) {
      throw new IllegalStateException("unexpected AES-GCM output length " + ciphertext.length);
    }
    System.arraycopy(ciphertext, 0, record, EnvelopeFormat.BATCH_HEADER, ciphertextLength);
    nextSequence++;
    epoch.usage[0]++;
    epoch.usage[1] += payload.plaintextLength;
    return new SealedBatch(epoch.keyRecord, sequence, now, record, payload.plaintextLength);
  }

  /**
   * A payload compressed by {@link #compress}, not yet sealed: it lives only in memory, like the
   * plaintext it came from.
   */
  public static final class Compressed {
    private final Codec codec;
    private final byte[] bytes;
    private final int plaintextLength;

    private Compressed(Codec codec, byte[] bytes, int plaintextLength) {
      this.codec = codec;
      this.bytes = bytes;
      this.plaintextLength = plaintextLength;
    }

    /** Length of the compressed bytes. */
    public int length() {
      return bytes.length;
    }

    /** Length of the payload before compression. */
    public int plaintextLength() {
      return plaintextLength;
    }
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
      boolean spent = spent(current, now, payloadLength);
      boolean due = usedPast(current, now, payloadLength, 3, 4); // rotation starts early
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

  /** Whether {@code epoch} may not seal a payload of {@code payloadLength} bytes more. */
  private boolean spent(Epoch epoch, long now, int payloadLength) {
    return usedPast(epoch, now, payloadLength, 1, 1);
  }

  /** Whether sealing {@code payloadLength} bytes more takes {@code epoch} past num/den of a limit. */
  private boolean usedPast(Epoch epoch, long now, int payloadLength, int num, int den) {
    return now - epoch.startedAtMillis >= policy.maxAge().toMillis() / den * num
        || epoch.usage[0] >= policy.maxRecords() / den * num
        || epoch.usage[1] + payloadLength > policy.maxBytes() / den * num;
  }

  private void rotate(long now) throws KeyUnavailableException {
    IssuedDataKey issued = nextKey == null ? issueNow() : nextKey.take(epochNumber + 1);
    install(issued, now);
  }

  private IssuedDataKey issueNow() throws KeyUnavailableException {
    keyRequests++;
    try {
      return issuer.issue(keyContext(epochNumber + 1));
    } catch (KeyUnavailableException e) {
      // From when the failure is known, not from before the call: a timed-out call can last
      // longer than the back-off itself.
      nextIssueAttemptMillis = clock.millis() + ISSUE_RETRY_BACKOFF.toMillis();
      throw e;
    }
  }

  private KeyContext keyContext(long epoch) {
    return new KeyContext(queue, streamId, epoch, deployment);
  }

  /**
   * Waits, when this sealer holds no usable data key, for the one that {@link #seal} needs: up to
   * {@link #FIRST_KEY_WAIT} for the first key (asked for by {@link #prefetch()}) or for one asked
   * for here (the current key was spent by age while nothing was sealed); up to {@link
   * #NEXT_KEY_WAIT} for a key asked for when rotation came due and not come by the time the
   * current one is spent. Only until one such wait has timed out, so a silent provider costs one
   * bounded wait, after which seals fail fast until it answers.
   *
   * <p>Call it before taking the lock that orders your seals, never under it: then a slow key
   * provider holds up only the callers that cannot seal without it. Safe on any thread; whatever
   * the outcome, {@link #seal} reports it. Without a key fetcher it returns at once (the seal asks
   * the provider itself).
   */
  public void awaitKey() {
    Epoch e = current;
    if (nextKey == null || (e != null && !spent(e, clock.millis(), 0))) {
      return;
    }
    long epoch = epochNumber;
    nextKey.await(epoch + 1, epoch == 0 ? FIRST_KEY_WAIT : NEXT_KEY_WAIT, FIRST_KEY_WAIT);
  }

  private void install(IssuedDataKey issued, long now) {
    long nextEpoch = epochNumber + 1;
    KeyContext ctx = keyContext(nextEpoch);
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
    byte[] encoded =
        EnvelopeFormat.encodeKeyRecord(ctx, issued.wrapped(), now, signer == null ? null : signer::sign);
    KeyRecord keyRecord;
    try {
      keyRecord = (KeyRecord) EnvelopeFormat.parse(encoded);
    } catch (EnvelopeException e) {
      throw new IllegalStateException("a key record this sealer encoded does not parse", e);
    }
    retire();
    epochNumber = nextEpoch;
    current = new Epoch(aead, keyRecord, now, new long[2]);
  }

  /** Drops the current data key; the JCE's internal copy goes with the cipher object. */
  private void retire() {
    current = null;
  }

  /** Forgets the data key, so this process can no longer seal under (or derive) it. */
  @Override
  public void close() {
    retire();
    if (nextKey != null) {
      nextKey.close(); // a key that arrives after close is wiped
    }
  }
}
