package dev.spillway.core.internal.seal;

import dev.spillway.core.PayloadType;
import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyProviderId;
import dev.spillway.core.keys.WrappedDataKey;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The on-disk envelope, version 2. docs/ENVELOPE.md is the byte-by-byte description; keep the two
 * in step. All integers are big-endian.
 *
 * <pre>
 * common   0  4  magic "SPWL"
 *          4  1  format version (2)
 *          5  1  record type (1 = key record, 2 = sealed batch)
 * key      6 16  stream id
 *         22  8  epoch
 *         30  1  key provider id
 *         31  1  data-key algorithm (1 = AES-256-GCM)
 *         32  8  epoch start, Unix milliseconds
 *         40  2  key ref length R, then R bytes UTF-8
 *       42+R  2  wrapped key length W, then W bytes
 *     44+R+W  2  signature length S (0 = unsigned), then S bytes: Ed25519 over the statement
 * batch    6 16  stream id
 *         22  8  epoch
 *         30  8  sequence number
 *         38  8  sealed at, Unix milliseconds
 *         46  1  algorithm (1 = AES-256-GCM)
 *         47  1  codec (0 = none, 1 = lz4 block, 2 = zstd frame)
 *         48  1  payload type
 *         49  1  flags (0)
 *         50  4  plaintext length (before compression)
 *         54  4  ciphertext length C
 *         58  C  Tink AES-GCM output: 12-byte nonce, ciphertext, 16-byte tag
 * </pre>
 *
 * The associated data of a batch is its 58 header bytes followed by the deployment id and the queue
 * name (each a 4-byte length, then UTF-8), so a record moved to another deployment, queue, stream,
 * epoch or position fails to open. A key record's signature covers the label {@code
 * spillway-key-record-v2}, the deployment id and queue name (length-prefixed) and every byte of
 * the record before the signature length.
 */
public final class EnvelopeFormat {
  static final byte[] MAGIC = {'S', 'P', 'W', 'L'};
  /** The version this code writes. Readers open every version up to this one. */
  public static final int VERSION = 2;
  /** The oldest version this code opens: version 1 had no deployment binding and no signatures. */
  public static final int OLDEST_READ_VERSION = 2;

  static final int TYPE_KEY = 1;
  static final int TYPE_BATCH = 2;
  static final int ALGORITHM_AES_256_GCM = 1;

  static final int COMMON_HEADER = 6;
  static final int BATCH_HEADER = 58;
  static final int KEY_FIXED = 46; // without key ref, wrapped key and signature bytes
  /** Longest signature a key record may carry (an Ed25519 signature with Tink's prefix is 69). */
  static final int MAX_SIGNATURE_BYTES = 1024;
  private static final byte[] KEY_STATEMENT_LABEL =
      "spillway-key-record-v2".getBytes(StandardCharsets.US_ASCII);
  static final int GCM_OVERHEAD = 12 + 16;

  /** Largest payload a record may carry before compression; bounds memory on the read side. */
  public static final int MAX_PLAINTEXT_BYTES = 256 << 20;

  /**
   * The largest payload whose sealed batch is at most {@code recordBytes} long whatever the codec,
   * with {@code reservedBytes} of the record left for the store's own framing. Incompressible
   * bytes grow under compression: LZ4 by at most n/255 + 16, zstd by n/256 plus at most 64 for
   * payloads under 128 KiB; the header and the GCM nonce and tag add {@value #BATCH_HEADER} +
   * {@value #GCM_OVERHEAD}. Zero when nothing fits.
   */
  public static int largestPayloadIn(long recordBytes, int reservedBytes) {
    long room = recordBytes - reservedBytes - BATCH_HEADER - GCM_OVERHEAD - 64 - 16;
    return room <= 0 ? 0 : (int) Math.min(MAX_PLAINTEXT_BYTES, room * 255 / 256);
  }

  private EnvelopeFormat() {}

  /**
   * Whether a spill record says it is a sealed batch (not a key record), without parsing or
   * authenticating it: for counting what a deleted segment held. Never a reason to trust it.
   */
  public static boolean looksLikeBatch(byte[] record) {
    return record.length >= COMMON_HEADER && (record[5] & 0xff) == TYPE_BATCH;
  }

  /** A parsed record: either a key record or a sealed batch. */
  public sealed interface Envelope permits KeyRecord, SealedRecord {}

  /**
   * Encodes a key record: the fields, then the signature of {@link #keyStatement} made by {@code
   * sign} (null: unsigned, signature length 0).
   */
  static byte[] encodeKeyRecord(
      KeyContext ctx,
      WrappedDataKey wrapped,
      long startedAtMillis,
      java.util.function.UnaryOperator<byte[]> sign) {
    byte[] ref = wrapped.keyRef().getBytes(StandardCharsets.UTF_8);
    byte[] wk = wrapped.ciphertext();
    ByteBuffer b = ByteBuffer.allocate(KEY_FIXED - 2 + ref.length + wk.length);
    b.put(MAGIC).put((byte) VERSION).put((byte) TYPE_KEY);
    b.put(ctx.streamId()).putLong(ctx.epoch());
    b.put((byte) wrapped.provider().wireId()).put((byte) ALGORITHM_AES_256_GCM);
    b.putLong(startedAtMillis);
    b.putShort((short) ref.length).put(ref);
    b.putShort((short) wk.length).put(wk);
    byte[] unsigned = b.array();
    byte[] signature =
        sign == null
            ? new byte[0]
            : sign.apply(keyStatement(unsigned, unsigned.length, ctx.deployment(), ctx.queue()));
    if (signature.length > MAX_SIGNATURE_BYTES) {
      throw new IllegalStateException("a signature of " + signature.length + " bytes");
    }
    return ByteBuffer.allocate(unsigned.length + 2 + signature.length)
        .put(unsigned)
        .putShort((short) signature.length)
        .put(signature)
        .array();
  }

  /**
   * What a key record's signature covers: a label, the deployment id and queue name (each
   * length-prefixed), then the record's first {@code signedLength} bytes (all but the signature).
   */
  static byte[] keyStatement(byte[] record, int signedLength, DeploymentId deployment, String queue) {
    byte[] d = deployment.toBytes();
    byte[] q = queue.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(KEY_STATEMENT_LABEL.length + 8 + d.length + q.length + signedLength)
        .put(KEY_STATEMENT_LABEL)
        .putInt(d.length)
        .put(d)
        .putInt(q.length)
        .put(q)
        .put(record, 0, signedLength)
        .array();
  }

  /** Writes the batch header into the first {@value #BATCH_HEADER} bytes of {@code out}. */
  static void writeBatchHeader(
      ByteBuffer out,
      byte[] streamId,
      long epoch,
      long sequence,
      long sealedAtMillis,
      Codec codec,
      PayloadType type,
      int plaintextLength,
      int ciphertextLength) {
    out.put(MAGIC).put((byte) VERSION).put((byte) TYPE_BATCH);
    out.put(streamId).putLong(epoch).putLong(sequence).putLong(sealedAtMillis);
    out.put((byte) ALGORITHM_AES_256_GCM).put((byte) codec.code()).put((byte) type.code());
    out.put((byte) 0).putInt(plaintextLength).putInt(ciphertextLength);
  }

  /** The associated data: the header bytes, then the deployment id, then the queue name. */
  static byte[] associatedData(byte[] record, byte[] deployment, byte[] queueName) {
    ByteBuffer ad = ByteBuffer.allocate(BATCH_HEADER + 8 + deployment.length + queueName.length);
    ad.put(record, 0, BATCH_HEADER)
        .putInt(deployment.length)
        .put(deployment)
        .putInt(queueName.length)
        .put(queueName);
    return ad.array();
  }

  /**
   * Parses a record without opening it: checks magic, version, type and lengths.
   *
   * @throws EnvelopeFormatException if the bytes are not a well-formed record
   * @throws UnsupportedEnvelopeVersionException if a newer version wrote them
   */
  public static Envelope parse(byte[] record)
      throws EnvelopeFormatException, UnsupportedEnvelopeVersionException {
    if (record.length < COMMON_HEADER) {
      throw new EnvelopeFormatException(
          "record is " + record.length + " bytes, shorter than the " + COMMON_HEADER + "-byte header");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (record[i] != MAGIC[i]) {
        throw new EnvelopeFormatException("record does not start with the magic \"SPWL\"");
      }
    }
    int version = record[4] & 0xff;
    if (version > VERSION) {
      throw new UnsupportedEnvelopeVersionException(
          "record has format version " + version + "; this reader knows versions "
              + OLDEST_READ_VERSION + ".." + VERSION);
    }
    if (version == 0) {
      throw new EnvelopeFormatException("record has format version 0, which was never written");
    }
    if (version < OLDEST_READ_VERSION) {
      throw new UnsupportedEnvelopeVersionException(
          "record has format version " + version + ", which this reader no longer opens (version 1"
              + " records are unsigned and not bound to a deployment, so anyone holding writer.json"
              + " could forge them); drain it with a 0.x release from the quarantine file");
    }
    int type = record[5] & 0xff;
    ByteBuffer b = ByteBuffer.wrap(record);
    b.position(COMMON_HEADER);
    try {
      return switch (type) {
        case TYPE_KEY -> parseKey(record, b);
        case TYPE_BATCH -> parseBatch(record, b);
        default -> throw new EnvelopeFormatException("unknown record type " + type);
      };
    } catch (BufferUnderflowException e) {
      throw new EnvelopeFormatException(
          "record is truncated (" + record.length + " bytes, type " + type + ")");
    }
  }

  private static KeyRecord parseKey(byte[] record, ByteBuffer b) throws EnvelopeFormatException {
    byte[] stream = new byte[KeyContext.STREAM_ID_BYTES];
    b.get(stream);
    long epoch = b.getLong();
    int providerId = b.get() & 0xff;
    int algorithm = b.get() & 0xff;
    long startedAt = b.getLong();
    byte[] ref = new byte[b.getShort() & 0xffff];
    b.get(ref);
    byte[] wrapped = new byte[b.getShort() & 0xffff];
    b.get(wrapped);
    int signedLength = b.position();
    int signatureLength = b.getShort() & 0xffff;
    if (signatureLength > MAX_SIGNATURE_BYTES) {
      throw new EnvelopeFormatException("key record claims a signature of " + signatureLength + " bytes");
    }
    byte[] signature = new byte[signatureLength];
    b.get(signature);
    if (b.hasRemaining()) {
      throw new EnvelopeFormatException("key record has " + b.remaining() + " trailing bytes");
    }
    KeyProviderId provider = KeyProviderId.fromWireId(providerId);
    if (provider == null) {
      throw new EnvelopeFormatException("key record names unknown key provider " + providerId);
    }
    if (algorithm != ALGORITHM_AES_256_GCM) {
      throw new EnvelopeFormatException("key record names unknown data-key algorithm " + algorithm);
    }
    if (epoch < 1) {
      throw new EnvelopeFormatException("key record has epoch " + epoch);
    }
    if (wrapped.length == 0) {
      throw new EnvelopeFormatException("key record has an empty wrapped key");
    }
    return new KeyRecord(
        stream,
        epoch,
        new WrappedDataKey(provider, new String(ref, StandardCharsets.UTF_8), wrapped),
        startedAt,
        record,
        signature,
        signedLength);
  }

  private static SealedRecord parseBatch(byte[] record, ByteBuffer b) throws EnvelopeFormatException {
    if (record.length < BATCH_HEADER) {
      throw new EnvelopeFormatException(
          "sealed batch is " + record.length + " bytes, shorter than its " + BATCH_HEADER + "-byte header");
    }
    byte[] stream = new byte[KeyContext.STREAM_ID_BYTES];
    b.get(stream);
    long epoch = b.getLong();
    long sequence = b.getLong();
    long sealedAt = b.getLong();
    int algorithm = b.get() & 0xff;
    int codecCode = b.get() & 0xff;
    int typeCode = b.get() & 0xff;
    int flags = b.get() & 0xff;
    int plaintextLength = b.getInt();
    int ciphertextLength = b.getInt();
    if (algorithm != ALGORITHM_AES_256_GCM) {
      throw new EnvelopeFormatException("sealed batch names unknown algorithm " + algorithm);
    }
    Codec codec = Codec.fromCode(codecCode);
    if (codec == null) {
      throw new EnvelopeFormatException("sealed batch names unknown codec " + codecCode);
    }
    PayloadType type = PayloadType.fromCode(typeCode);
    if (type == null) {
      throw new EnvelopeFormatException("sealed batch names unknown payload type " + typeCode);
    }
    if (flags != 0) {
      throw new EnvelopeFormatException("sealed batch has unknown flags " + flags);
    }
    if (plaintextLength < 0 || plaintextLength > MAX_PLAINTEXT_BYTES) {
      throw new EnvelopeFormatException("sealed batch claims a plaintext of " + plaintextLength + " bytes");
    }
    if (ciphertextLength < GCM_OVERHEAD || ciphertextLength != record.length - BATCH_HEADER) {
      throw new EnvelopeFormatException(
          "sealed batch claims "
              + ciphertextLength
              + " ciphertext bytes but carries "
              + (record.length - BATCH_HEADER)
              + " (truncated?)");
    }
    if (epoch < 1 || sequence < 0) {
      throw new EnvelopeFormatException("sealed batch has epoch " + epoch + ", sequence " + sequence);
    }
    return new SealedRecord(stream, epoch, sequence, sealedAt, codec, type, plaintextLength, record);
  }
}
