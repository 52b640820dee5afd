package dev.spillway.core;

import dev.spillway.core.internal.PrivateFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spill directory and its writer lock: creates {@code <dir>/} and {@code queue/} with the
 * right modes (0700, or 2770 for a shared group), and for a writer holds {@code writer.lock}, an
 * OS file lock that allows one appending process per directory and is released when its holder
 * dies. Names where everything in the directory lives (docs/SPILL.md, "On disk").
 */
final class SpillDirectory implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SpillDirectory.class);
  static final String QUEUE_DIR = "queue";
  static final String QUARANTINE_DIR = "quarantine";
  static final String WRITER_LOCK = "writer.lock";

  private final Path root;
  private final FileChannel writerLockFile;
  private final FileLock writerLock;

  private SpillDirectory(Path root, FileChannel writerLockFile, FileLock writerLock) {
    this.root = root;
    this.writerLockFile = writerLockFile;
    this.writerLock = writerLock;
  }

  /**
   * Creates (or tightens) the directory and, for a writer, takes the writer lock.
   *
   * @throws IOException naming the directory if another process holds the writer lock
   */
  static SpillDirectory open(Path root, boolean sharedGroup, boolean writer) throws IOException {
    Set<PosixFilePermission> mode =
        sharedGroup ? PosixFilePermissions.fromString("rwxrwx---") : PrivateFiles.OWNER_ONLY_DIR;
    PrivateFiles.createDirectories(root, mode);
    Path queue = root.resolve(QUEUE_DIR);
    PrivateFiles.createDirectories(queue, mode);
    if (sharedGroup) {
      setgid(root);
      setgid(queue);
    }
    if (!writer) {
      return new SpillDirectory(root, null, null);
    }
    FileChannel lockFile =
        FileChannel.open(root.resolve(WRITER_LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = lockFile.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held by this very JVM
    }
    if (lock == null) {
      lockFile.close();
      throw new IOException("another process is already writing to the spill directory " + root
          + " (one writer per directory; see " + WRITER_LOCK + ")");
    }
    return new SpillDirectory(root, lockFile, lock);
  }

  Path root() {
    return root;
  }

  /** Chronicle's queue: segment files, its metadata (with the log's consumer position), the segment clock. */
  Path queue() {
    return root.resolve(QUEUE_DIR);
  }

  Path quarantine() {
    return root.resolve(QUARANTINE_DIR);
  }

  /** The drain's checkpoint (committed position and replay watermarks): written by the drain only. */
  Path drainCheckpoint() {
    return root.resolve(DrainCheckpoint.FILE);
  }

  boolean holdsWriterLock() {
    return writerLock != null && writerLock.isValid();
  }

  /** Releases the writer lock, if held. */
  @Override
  public void close() {
    try {
      if (writerLock != null) {
        writerLock.release();
      }
      if (writerLockFile != null) {
        writerLockFile.close();
      }
    } catch (IOException e) {
      LOG.warn("could not release the writer lock: {}", e.getMessage());
    }
  }

  private static void setgid(Path dir) throws IOException {
    // Java has no API for the setgid bit; chmod it is. New files then inherit the group.
    // Already set (tmpfiles.d made it so): nothing to do, and a non-owner could not chmod.
    if ((((Integer) Files.getAttribute(dir, "unix:mode")) & 02000) != 0) {
      return;
    }
    try {
      Process p = new ProcessBuilder("chmod", "g+s", dir.toString()).redirectErrorStream(true).start();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException("chmod g+s " + dir + " failed");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while setting setgid on " + dir, e);
    }
  }
}
