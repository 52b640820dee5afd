package dev.spillway.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Scratch directories for benchmark state. They live under {@code -Dspillway.bench.dir} (default
 * {@code java.io.tmpdir}), which must be on the disk being measured, not a tmpfs.
 */
public final class BenchDirs {
  private BenchDirs() {}

  public static Path root() {
    return Path.of(System.getProperty("spillway.bench.dir", System.getProperty("java.io.tmpdir")));
  }

  public static Path create(String prefix) {
    try {
      Files.createDirectories(root());
      return Files.createTempDirectory(root(), "spillway-bench-" + prefix + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static void delete(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.delete(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
          Files.delete(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
