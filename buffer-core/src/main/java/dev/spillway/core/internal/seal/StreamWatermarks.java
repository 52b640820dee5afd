package dev.spillway.core.internal.seal;

import dev.spillway.core.internal.PrivateFiles;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.zip.CRC32C;

/**
 * The last accepted sequence number of every writer stream, so a record at or below it (a drained
 * segment copied back under a later name, a record moved back in its stream) is refused also after
 * a restart, and a jump in a stream's sequence (records deleted) is reported.
 *
 * <p><b>Retirement.</b> Every writer process starts a new stream, so streams are forgotten once
 * they have been silent long enough, without reopening the replay window: a stream is retired when
 * the newest record accepted from any stream was sealed more than {@code retireAfter} after the
 * stream's own last record, or when more than {@code maxStreams} are held (the least recently
 * advanced first). The table keeps {@link #retiredBefore()}, the latest sealed-at time of any
 * retired stream's last record; a record of a stream the table does not know that was sealed at or
 * before that time is refused as a replay. A genuine new stream always seals after the retired
 * streams' last records (sealed-at times are authenticated, and the spill is read in append
 * order), so it is never caught by that rule unless writer clocks differ by more than {@code
 * retireAfter}.
 *
 * <p><b>Persistence.</b> {@link #toBytes()} and {@link #fromBytes} give a checksummed encoding
 * (docs/ENVELOPE.md, "Stream watermarks"). The drain persists the watermarks of the records it has
 * <em>committed</em> together with its consumer position, never of records merely read: after a
 * crash the records read but not committed are delivered again and must pass.
 *
 * <p>Not thread-safe: the caller serialises use (the drain's read lock).
 */
public final class StreamWatermarks {
  /** Default silence after which a stream is retired: 7 days. */
  public static final Duration DEFAULT_RETIRE_AFTER = Duration.ofDays(7);
  /** Default bound on streams held: {@value #DEFAULT_MAX_STREAMS} (about 128 KiB serialized). */
  public static final int DEFAULT_MAX_STREAMS = 4096;
  /** Largest table {@link #fromBytes} accepts, whatever {@code maxStreams} says. */
  static final int MAX_ENCODED_STREAMS = 1 << 20;

  static final byte[] MAGIC = {'S', 'P', 'W', 'M'};
  static final int FORMAT = 1;
  static final int HEADER = 4 + 1 + 3 + 8 + 8 + 4;
  static final int ENTRY = 16 + 8 + 8;

  /** What {@link #check} found: how many records of the stream were never seen before this one. */
  public record Check(long missingBefore, boolean firstOfStream) {}

  private record Stream(String hex) {}

  private record Mark(long sequence, long sealedAtMillis) {}

  /** Ordered by last advance, least recent first: the retirement order. */
  private final LinkedHashMap<Stream, Mark> marks = new LinkedHashMap<>();
  private final long retireAfterMillis;
  private final int maxStreams;
  private long retiredBefore = Long.MIN_VALUE;
  private long newestSealedAt = Long.MIN_VALUE;

  /** An empty table with the default retirement ({@link #DEFAULT_RETIRE_AFTER}, {@link #DEFAULT_MAX_STREAMS}). */
  public StreamWatermarks() {
    this(DEFAULT_RETIRE_AFTER, DEFAULT_MAX_STREAMS);
  }

  /**
   * An empty table.
   *
   * @param retireAfter how long a stream may be silent before it is retired; keep it above the
   *     longest time a record can wait in the spill, so a writer that was merely slow is not taken
   *     for a new stream (which only costs a false gap report, never a refusal)
   * @param maxStreams streams held at most
   */
  public StreamWatermarks(Duration retireAfter, int maxStreams) {
    Objects.requireNonNull(retireAfter, "retireAfter");
    if (retireAfter.isNegative() || retireAfter.isZero()) {
      throw new IllegalArgumentException("retireAfter must be positive, got " + retireAfter);
    }
    if (maxStreams < 1 || maxStreams > MAX_ENCODED_STREAMS) {
      throw new IllegalArgumentException("maxStreams must be in 1.." + MAX_ENCODED_STREAMS + ", got " + maxStreams);
    }
    this.retireAfterMillis = retireAfter.toMillis();
    this.maxStreams = maxStreams;
  }

  /**
   * Checks an authenticated record against the table without changing it.
   *
   * @return how many of the stream's records are missing before this one: for a known stream the
   *     jump past its last sequence, for a stream not in the table its sequence number (records
   *     0..n-1 were never seen)
   * @throws OutOfOrderRecordException if the sequence is at or below the stream's last one, or the
   *     stream is unknown and the record was sealed at or before {@link #retiredBefore()}
   */
  public Check check(byte[] streamId, long sequence, long sealedAtMillis) throws OutOfOrderRecordException {
    Stream s = stream(streamId);
    Mark m = marks.get(s);
    if (m == null) {
      if (sealedAtMillis <= retiredBefore) {
        throw new OutOfOrderRecordException(
            "sealed batch of stream " + s.hex + " #" + sequence + " was sealed at " + sealedAtMillis
                + ", not after the retired streams' last records (" + retiredBefore
                + "): an old record copied back");
      }
      return new Check(sequence, true);
    }
    if (sequence <= m.sequence) {
      throw new OutOfOrderRecordException(
          "sealed batch of stream " + s.hex + " #" + sequence + " is at or below #" + m.sequence
              + ", already accepted from the same stream (replayed or moved back)");
    }
    return new Check(sequence - m.sequence - 1, false);
  }

  /** Records that {@code sequence} of the stream was accepted, then retires what is due. */
  public void advance(byte[] streamId, long sequence, long sealedAtMillis) {
    if (sequence < 0) {
      throw new IllegalArgumentException("sequence " + sequence);
    }
    Stream s = stream(streamId);
    Mark m = marks.remove(s); // re-inserted at the tail: most recently advanced
    marks.put(s, m == null
        ? new Mark(sequence, sealedAtMillis)
        : new Mark(Math.max(m.sequence, sequence), Math.max(m.sealedAtMillis, sealedAtMillis)));
    newestSealedAt = Math.max(newestSealedAt, sealedAtMillis);
    retire();
  }

  private void retire() {
    long horizon = newestSealedAt - retireAfterMillis;
    Iterator<Map.Entry<Stream, Mark>> it = marks.entrySet().iterator();
    while (it.hasNext()) {
      Mark m = it.next().getValue();
      if (marks.size() <= maxStreams && m.sealedAtMillis >= horizon) {
        return;
      }
      retiredBefore = Math.max(retiredBefore, m.sealedAtMillis);
      it.remove();
    }
  }

  /** The last accepted sequence of a stream, if the table holds it. */
  public OptionalLong lastSequence(byte[] streamId) {
    Mark m = marks.get(stream(streamId));
    return m == null ? OptionalLong.empty() : OptionalLong.of(m.sequence);
  }

  /** Streams held. */
  public int streams() {
    return marks.size();
  }

  /**
   * Unknown streams' records sealed at or before this Unix-millisecond time are refused; {@link
   * Long#MIN_VALUE} while no stream was retired.
   */
  public long retiredBefore() {
    return retiredBefore;
  }

  /** An independent copy with the same retirement settings. */
  public StreamWatermarks copy() {
    StreamWatermarks c = new StreamWatermarks(Duration.ofMillis(retireAfterMillis), maxStreams);
    c.marks.putAll(marks);
    c.retiredBefore = retiredBefore;
    c.newestSealedAt = newestSealedAt;
    return c;
  }

  /**
   * The table as bytes: magic {@code SPWM}, format 1, three zero bytes, retired-before (8),
   * newest sealed-at (8), stream count N (4), N entries of stream id (16), last sequence (8) and
   * its sealed-at (8), least recently advanced first, then CRC-32C (4) of everything before it.
   */
  public byte[] toBytes() {
    ByteBuffer b = ByteBuffer.allocate(HEADER + marks.size() * ENTRY + 4);
    b.put(MAGIC).put((byte) FORMAT).put(new byte[3]);
    b.putLong(retiredBefore).putLong(newestSealedAt).putInt(marks.size());
    HexFormat hex = HexFormat.of();
    for (Map.Entry<Stream, Mark> e : marks.entrySet()) {
      b.put(hex.parseHex(e.getKey().hex)).putLong(e.getValue().sequence).putLong(e.getValue().sealedAtMillis);
    }
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /**
   * Reads what {@link #toBytes()} wrote. A table larger than {@code maxStreams} is retired down to
   * it at once.
   *
   * @param what names the source in error messages (for example the file)
   * @throws WatermarkFormatException naming {@code what} and the fault: not a table, unknown
   *     format, wrong length, checksum mismatch, a negative sequence or a stream listed twice
   */
  public static StreamWatermarks fromBytes(byte[] bytes, String what, Duration retireAfter, int maxStreams)
      throws WatermarkFormatException {
    Objects.requireNonNull(bytes, "bytes");
    StreamWatermarks w = new StreamWatermarks(retireAfter, maxStreams);
    if (bytes.length < HEADER + 4) {
      throw new WatermarkFormatException(what + ": " + bytes.length + " bytes, shorter than a stream-watermark table");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (bytes[i] != MAGIC[i]) {
        throw new WatermarkFormatException(what + ": does not start with the magic \"SPWM\"");
      }
    }
    if (bytes[4] != FORMAT) {
      throw new WatermarkFormatException(what + ": stream-watermark format " + (bytes[4] & 0xff) + ", this reader knows " + FORMAT);
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    try {
      b.position(8);
      long retiredBefore = b.getLong();
      long newest = b.getLong();
      int n = b.getInt();
      if (n < 0 || n > MAX_ENCODED_STREAMS || bytes.length != HEADER + (long) n * ENTRY + 4) {
        throw new WatermarkFormatException(
            what + ": claims " + n + " streams but is " + bytes.length + " bytes (truncated or altered?)");
      }
      CRC32C crc = new CRC32C();
      crc.update(bytes, 0, bytes.length - 4);
      if ((int) crc.getValue() != ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt()) {
        throw new WatermarkFormatException(what + ": checksum mismatch (damaged or altered)");
      }
      HexFormat hex = HexFormat.of();
      for (int i = 0; i < n; i++) {
        byte[] id = new byte[16];
        b.get(id);
        long seq = b.getLong();
        long at = b.getLong();
        if (seq < 0) {
          throw new WatermarkFormatException(what + ": stream " + hex.formatHex(id) + " has sequence " + seq);
        }
        if (w.marks.put(new Stream(hex.formatHex(id)), new Mark(seq, at)) != null) {
          throw new WatermarkFormatException(what + ": stream " + hex.formatHex(id) + " is listed twice");
        }
      }
      w.retiredBefore = retiredBefore;
      w.newestSealedAt = newest;
    } catch (BufferUnderflowException e) {
      throw new WatermarkFormatException(what + ": truncated");
    }
    w.retire();
    return w;
  }

  /**
   * Loads a table {@link #writeTo written} to {@code file}; an empty table if the file does not
   * exist yet (a new spill, or the first start after an upgrade).
   *
   * @throws WatermarkFormatException naming the file if it exists but cannot be read as a table:
   *     fail closed, since an empty table would accept replayed records again
   */
  public static StreamWatermarks readFrom(Path file, Duration retireAfter, int maxStreams) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return new StreamWatermarks(retireAfter, maxStreams);
    }
    return fromBytes(bytes, file.toString(), retireAfter, maxStreams);
  }

  /** Writes {@link #toBytes()} to {@code file}: mode 0600, temporary file, fsync, rename. */
  public void writeTo(Path file) throws IOException {
    PrivateFiles.writeAtomically(file, toBytes());
  }

  private static Stream stream(byte[] streamId) {
    Objects.requireNonNull(streamId, "streamId");
    if (streamId.length != 16) {
      throw new IllegalArgumentException("stream id must be 16 bytes");
    }
    return new Stream(HexFormat.of().formatHex(streamId));
  }

  @Override
  public String toString() {
    return "StreamWatermarks[" + marks.size() + " streams, retired before " + retiredBefore + "]";
  }
}
