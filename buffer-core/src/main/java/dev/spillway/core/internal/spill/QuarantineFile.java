package dev.spillway.core.internal.spill;

import dev.spillway.core.QuarantineReason;
import dev.spillway.core.internal.PrivateFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Where records that can never be opened go: appended, still sealed, to {@code quarantine.log},
 * with the reason and position, for an operator to inspect. Nothing here is plaintext: the records
 * are the envelopes as they were found.
 *
 * <p>Entry layout: magic "SPWQ", reason (1 byte, the {@link QuarantineReason} ordinal),
 * position (8), found-at Unix ms (8), message length (2) and UTF-8 message, record length (4) and
 * record bytes.
 */
public final class QuarantineFile {
  public static final String FILE = "quarantine.log";
  private static final byte[] MAGIC = {'S', 'P', 'W', 'Q'};
  private final Path file;

  public QuarantineFile(Path dir) throws IOException {
    PrivateFiles.createPrivateDirectories(dir);
    this.file = dir.resolve(FILE);
  }

  public Path file() {
    return file;
  }

  /** Appends and forces one quarantined record. */
  public void add(long position, QuarantineReason reason, String message, byte[] record)
      throws IOException {
    byte[] msg = message.getBytes(StandardCharsets.UTF_8);
    if (msg.length > 4096) {
      msg = java.util.Arrays.copyOf(msg, 4096);
    }
    ByteBuffer b = ByteBuffer.allocate(4 + 1 + 8 + 8 + 2 + msg.length + 4 + record.length);
    b.put(MAGIC).put((byte) reason.ordinal()).putLong(position).putLong(System.currentTimeMillis());
    b.putShort((short) msg.length).put(msg).putInt(record.length).put(record).flip();
    if (!Files.exists(file)) {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PrivateFiles.OWNER_ONLY_FILE));
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(false);
    }
  }
}
