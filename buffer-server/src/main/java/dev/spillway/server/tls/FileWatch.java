package dev.spillway.server.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Notices when files are replaced, by their modification times and sizes. Polling works on every
 * filesystem, including the symlink swaps that Kubernetes secret volumes do. Not thread-safe: the
 * owner calls {@link #changed} from one thread or under its own lock.
 */
public final class FileWatch {
  private final List<Path> files;
  private List<String> seen;

  /** Remembers the files as they are now. */
  public FileWatch(List<Path> files) throws IOException {
    this.files = List.copyOf(files);
    this.seen = fingerprint();
  }

  /**
   * True once for each change since the previous call (or construction), whether or not the new
   * contents turn out usable: a broken write is reported once, and the next write is a new change.
   *
   * @throws IOException when a file cannot be read now; the change is looked for again next time
   */
  public boolean changed() throws IOException {
    List<String> now = fingerprint();
    if (now.equals(seen)) {
      return false;
    }
    seen = now;
    return true;
  }

  private List<String> fingerprint() throws IOException {
    List<String> f = new ArrayList<>();
    for (Path p : files) {
      f.add(p + "|" + Files.getLastModifiedTime(p).toMillis() + "|" + Files.size(p));
    }
    return f;
  }
}
