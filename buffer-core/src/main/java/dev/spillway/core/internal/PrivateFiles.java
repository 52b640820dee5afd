package dev.spillway.core.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Files and directories only their owner (or, for a shared spill directory, their group) may read.
 * Internal: not API.
 */
public final class PrivateFiles {
  public static final Set<PosixFilePermission> OWNER_ONLY_DIR =
      PosixFilePermissions.fromString("rwx------");
  public static final Set<PosixFilePermission> OWNER_ONLY_FILE =
      PosixFilePermissions.fromString("rw-------");

  private PrivateFiles() {}

  /** Creates {@code dir} and missing parents with mode 0700; tightens an existing {@code dir}. */
  public static void createPrivateDirectories(Path dir) throws IOException {
    createDirectories(dir, OWNER_ONLY_DIR);
  }

  /**
   * Creates {@code dir} with {@code mode} (missing parents get the same mode) and sets the mode
   * of an existing one, so a directory an earlier version or a careless umask made readable is
   * closed again.
   */
  public static void createDirectories(Path dir, Set<PosixFilePermission> mode) throws IOException {
    Path abs = dir.toAbsolutePath();
    if (!Files.isDirectory(abs)) {
      Path parent = abs.getParent();
      if (parent != null && !Files.isDirectory(parent)) {
        createDirectories(parent, mode);
      }
      try {
        Files.createDirectory(abs, PosixFilePermissions.asFileAttribute(mode));
      } catch (FileAlreadyExistsException e) {
        if (!Files.isDirectory(abs)) {
          throw new IOException(abs + " exists and is not a directory", e);
        }
      }
    }
    // The umask may have narrowed the mode at creation; set it exactly. Not when it already is:
    // chmod would clear a setgid bit, and only the owner may chmod (a group member running
    // ingest in a shared directory is not the owner).
    Set<PosixFilePermission> current = Files.getPosixFilePermissions(abs);
    if (current.equals(mode)) {
      return;
    }
    try {
      Files.setPosixFilePermissions(abs, mode);
    } catch (java.nio.file.FileSystemException e) {
      if (mode.containsAll(current)) {
        return; // narrower than asked for and not ours to widen: safe as it is
      }
      throw new IOException(abs + " has mode " + PosixFilePermissions.toString(current) + ", wider than "
          + PosixFilePermissions.toString(mode) + ", and this user cannot change it (not its owner):"
          + " chmod it as its owner", e);
    }
  }

  /**
   * Writes {@code content} to {@code target} with mode 0600: into a temporary file beside it,
   * fsynced, then renamed over the target, so a reader never sees a half-written file.
   */
  public static void writeAtomically(Path target, byte[] content) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(content);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
