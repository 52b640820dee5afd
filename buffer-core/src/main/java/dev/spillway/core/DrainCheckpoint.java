package dev.spillway.core;

import dev.spillway.core.internal.PrivateFiles;
import dev.spillway.core.internal.seal.StreamWatermarks;
import dev.spillway.core.internal.seal.WatermarkFormatException;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The drain's replay state on disk: a committed consumer position and the per-stream watermarks
 * of every record before it ({@link StreamWatermarks}), in one file written atomically. Only the
 * draining side reads or writes it; the ingest role never needs to.
 *
 * <p>Format (docs/ENVELOPE.md, "Stream watermarks"), integers big-endian: magic {@code SPDC},
 * format 1, three zero bytes, committed position (8), table length L (4), the table's own bytes
 * ({@link StreamWatermarks#toBytes()}, L bytes), CRC-32C (4) of everything before it.
 */
final class DrainCheckpoint {
  /** The file's name in the spill directory (beside {@code queue/}, whose metadata holds the log's position). */
  static final String FILE = "drain-checkpoint";

  private static final byte[] MAGIC = {'S', 'P', 'D', 'C'};
  private static final int FORMAT = 1;
  private static final int HEADER = 4 + 1 + 3 + 8 + 4;

  /** A committed position and the watermarks of every record before it. */
  record Saved(long position, StreamWatermarks marks) {}

  private DrainCheckpoint() {}

  static byte[] encode(long position, StreamWatermarks marks) {
    byte[] table = marks.toBytes();
    ByteBuffer b = ByteBuffer.allocate(HEADER + table.length + 4);
    b.put(MAGIC).put((byte) FORMAT).put(new byte[3]).putLong(position).putInt(table.length).put(table);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /**
   * @throws WatermarkFormatException naming {@code what} and the fault
   */
  static Saved decode(byte[] bytes, String what) throws WatermarkFormatException {
    if (bytes.length < HEADER + 4) {
      throw new WatermarkFormatException(what + ": " + bytes.length + " bytes, shorter than a drain checkpoint");
    }
    if (!Arrays.equals(bytes, 0, 4, MAGIC, 0, 4)) {
      throw new WatermarkFormatException(what + ": does not start with the magic \"SPDC\"");
    }
    if (bytes[4] != FORMAT) {
      throw new WatermarkFormatException(
          what + ": drain checkpoint format " + (bytes[4] & 0xff) + ", this reader knows " + FORMAT);
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, bytes.length - 4);
    if ((int) crc.getValue() != ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt()) {
      throw new WatermarkFormatException(what + ": checksum mismatch (damaged or altered)");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    try {
      b.position(8);
      long position = b.getLong();
      int length = b.getInt();
      if (length < 0 || HEADER + (long) length + 4 != bytes.length) {
        throw new WatermarkFormatException(what + ": claims a table of " + length + " bytes but is " + bytes.length);
      }
      if (position < -1) {
        throw new WatermarkFormatException(what + ": committed position " + position);
      }
      byte[] table = Arrays.copyOfRange(bytes, HEADER, HEADER + length);
      return new Saved(position, StreamWatermarks.fromBytes(
          table, what, StreamWatermarks.DEFAULT_RETIRE_AFTER, StreamWatermarks.DEFAULT_MAX_STREAMS));
    } catch (BufferUnderflowException e) {
      throw new WatermarkFormatException(what + ": truncated");
    }
  }

  /**
   * Reads the checkpoint, or null if the file does not exist.
   *
   * @throws WatermarkFormatException naming the file if it exists and cannot be read
   */
  static Saved read(Path file) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return null;
    }
    return decode(bytes, file.toString());
  }

  /**
   * Replaces the file atomically: a temporary file beside it (mode 0600), forced if {@code force},
   * renamed over it, and the directory forced, so after a crash the file is the old one or the new
   * one, never a mix.
   */
  static void write(Path file, long position, StreamWatermarks marks, boolean force) throws IOException {
    byte[] content = encode(position, marks);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PrivateFiles.OWNER_ONLY_FILE));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(content);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      if (force) {
        ch.force(true);
      }
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    if (force) {
      try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
        dir.force(true); // the rename itself survives a power loss
      } catch (IOException ignored) {
        // some file systems cannot open a directory for fsync; the rename is still atomic
      }
    }
  }
}
