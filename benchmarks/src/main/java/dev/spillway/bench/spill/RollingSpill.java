package dev.spillway.bench.spill;

import dev.spillway.core.internal.seal.KeyRecord;
import dev.spillway.core.internal.spill.ChronicleSpillLog;
import dev.spillway.core.internal.spill.SpillStorageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * A {@link ChronicleSpillLog} driven the way the buffer drives it, so the plaintext baseline and
 * the sealed appends pay the same storage costs: an msync of what was appended at most every
 * second (the default {@code fsync: 1s}), and a new segment every {@value #SEGMENT_BYTES} bytes
 * with the older ones deleted (retention), so a long run does not fill the disk. A finished segment
 * is fdatasynced before it is deleted: deleting a file drops its dirty pages unwritten, and without
 * this a run would measure a page cache that never has to reach the disk (a spill that waits for a
 * downstream does have to). After a roll the current key record is appended again, as the real
 * writer does, so every segment is self-contained.
 */
public final class RollingSpill implements AutoCloseable {
  /** Chronicle's mapping chunk; a record may be at most a quarter of it (8192 spans ≈ 7 MB). */
  public static final long BLOCK_SIZE = 64L << 20;
  static final long SEGMENT_BYTES = 256L << 20;
  private static final long FORCE_INTERVAL_NANOS = 1_000_000_000L;

  private final ChronicleSpillLog log;
  private long bytesInSegment;
  private long lastForce = System.nanoTime();
  private KeyRecord keyRecord;

  public RollingSpill(Path dir) {
    try {
      java.nio.file.Files.createDirectories(dir);
      this.log = ChronicleSpillLog.open(dir, true, BLOCK_SIZE, true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public ChronicleSpillLog log() {
    return log;
  }

  /** Appends a record whose key record is {@code key} (null for plaintext); returns its position. */
  public long append(byte[] record, KeyRecord key) throws SpillStorageException {
    if (bytesInSegment + record.length > SEGMENT_BYTES && bytesInSegment > 0) {
      roll();
    }
    if (key != null && key != keyRecord) {
      log.append(key.encoded());
      keyRecord = key;
    }
    long position = log.append(record);
    bytesInSegment += record.length;
    long now = System.nanoTime();
    if (now - lastForce >= FORCE_INTERVAL_NANOS) {
      log.force();
      lastForce = now;
    }
    return position;
  }

  private void roll() throws SpillStorageException {
    log.force();
    long finished = log.appendSegment();
    log.roll();
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(log.segmentFile(finished),
        java.nio.file.StandardOpenOption.WRITE)) {
      ch.force(false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long current = log.appendSegment();
    for (long segment : log.segments()) {
      if (segment < current) {
        log.deleteSegment(segment);
      }
    }
    bytesInSegment = 0;
    if (keyRecord != null) {
      log.append(keyRecord.encoded());
    }
  }

  @Override
  public void close() {
    log.close();
  }
}
