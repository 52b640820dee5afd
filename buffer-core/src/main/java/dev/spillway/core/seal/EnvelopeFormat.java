package dev.spillway.core.seal;

import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyProviderId;
import dev.spillway.core.keys.WrappedDataKey;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The on-disk envelope, version 1. docs/ENVELOPE.md is the byte-by-byte description; keep the two
 * in step. All integers are big-endian.
 *
 * <pre>
 * common   0  4  magic "SPWL"
 *          4  1  format version (1)
 *          5  1  record type (1 = key record, 2 = sealed batch)
 * key      6 16  stream id
 *         22  8  epoch
 *         30  1  key provider id
 *         31  1  data-key algorithm (1 = AES-256-GCM)
 *         32  8  epoch start, Unix milliseconds
 *         40  2  key ref length R, then R bytes UTF-8
 *       42+R  2  wrapped key length W, then W bytes
 * batch    6 16  stream id
 *         22  8  epoch
 *         30  8  sequence number
 *         38  8  sealed at, Unix milliseconds
 *         46  1  algorithm (1 = AES-256-GCM)
 *         47  1  codec (0 = none, 1 = lz4 block)
 *         48  1  payload type
 *         49  1  flags (0)
 *         50  4  plaintext length (before compression)
 *         54  4  ciphertext length C
 *         58  C  Tink AES-GCM output: 12-byte nonce, ciphertext, 16-byte tag
 * </pre>
 *
 * The associated data of a batch is its 58 header bytes followed by the queue name (4-byte length,
 * UTF-8), so a record moved to another queue, stream, epoch or position fails to open.
 */
public final class EnvelopeFormat {
  static final byte[] MAGIC = {'S', 'P', 'W', 'L'};
  /** The version this code writes. Readers open every version up to this one. */
  public static final int VERSION = 1;

  static final int TYPE_KEY = 1;
  static final int TYPE_BATCH = 2;
  static final int ALGORITHM_AES_256_GCM = 1;

  static final int COMMON_HEADER = 6;
  static final int BATCH_HEADER = 58;
  static final int KEY_FIXED = 44; // without key ref and wrapped key bytes
  static final int GCM_OVERHEAD = 12 + 16;

  /** Largest payload a record may carry before compression; bounds memory on the read side. */
  public static final int MAX_PLAINTEXT_BYTES = 256 << 20;

  private EnvelopeFormat() {}

  /** A parsed record: either a key record or a sealed batch. */
  public sealed interface Envelope permits KeyRecord, SealedRecord {}

  /** Encodes a key record. */
  static byte[] encodeKeyRecord(KeyContext ctx, WrappedDataKey wrapped, long startedAtMillis) {
    byte[] ref = wrapped.keyRef().getBytes(StandardCharsets.UTF_8);
    byte[] wk = wrapped.ciphertext();
    ByteBuffer b = ByteBuffer.allocate(KEY_FIXED + ref.length + wk.length);
    b.put(MAGIC).put((byte) VERSION).put((byte) TYPE_KEY);
    b.put(ctx.streamId()).putLong(ctx.epoch());
    b.put((byte) wrapped.provider().wireId()).put((byte) ALGORITHM_AES_256_GCM);
    b.putLong(startedAtMillis);
    b.putShort((short) ref.length).put(ref);
    b.putShort((short) wk.length).put(wk);
    return b.array();
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

  /** The associated data: the header bytes, then the queue name. */
  static byte[] associatedData(byte[] record, byte[] queueName) {
    ByteBuffer ad = ByteBuffer.allocate(BATCH_HEADER + 4 + queueName.length);
    ad.put(record, 0, BATCH_HEADER).putInt(queueName.length).put(queueName);
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
          "record has format version " + version + "; this reader knows versions 1.." + VERSION);
    }
    if (version == 0) {
      throw new EnvelopeFormatException("record has format version 0, which was never written");
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
        record);
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
