package dev.spillway.core.internal.spill;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.openhft.posix.PosixAPI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bytes a file occupies on its device: the sum of its data extents, found with
 * lseek(SEEK_DATA/SEEK_HOLE). Chronicle pre-sizes sparse files of tens of MiB, so a file's length
 * says little about the disk it uses. Where the native call is unavailable, the file length is used
 * instead: an over-estimate, so the budget errs on the safe side.
 */
final class AllocatedBytes {
  private static final Logger LOG = LoggerFactory.getLogger(AllocatedBytes.class);
  // Linux values. Chronicle posix's WhenceFlag enum carries other numbers (seen in 2026.2), so
  // the raw constants are passed.
  private static final int SEEK_DATA = 3;
  private static final int SEEK_HOLE = 4;
  private static final int O_RDONLY = 0;
  private static final int MAX_EXTENTS = 1 << 16;
  private static volatile boolean nativeBroken;

  private AllocatedBytes() {}

  static long of(Path file) {
    long length;
    try {
      length = Files.size(file);
    } catch (IOException e) {
      return 0; // deleted meanwhile
    }
    if (nativeBroken || length == 0) {
      return length;
    }
    try {
      PosixAPI posix = PosixAPI.posix();
      int fd = posix.open(file.toString(), O_RDONLY, 0);
      if (fd < 0) {
        return length;
      }
      try {
        long total = 0;
        long offset = 0;
        for (int i = 0; i < MAX_EXTENTS && offset < length; i++) {
          long data = posix.lseek(fd, offset, SEEK_DATA);
          if (data < 0) {
            break; // no more data (ENXIO)
          }
          long hole = posix.lseek(fd, data, SEEK_HOLE);
          if (hole < 0) {
            hole = length;
          }
          total += hole - data;
          offset = hole;
        }
        return total;
      } finally {
        posix.close(fd);
      }
    } catch (RuntimeException | LinkageError e) {
      nativeBroken = true;
      LOG.warn("cannot measure allocated blocks ({}); counting file lengths instead", e.toString());
      return length;
    }
  }
}
