package dev.spillway.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** This process's memory mappings as the kernel lists them ({@code /proc/self/smaps}, Linux). */
final class SmapsFixture {
  private static final Path SMAPS = Path.of("/proc/self/smaps");

  private SmapsFixture() {}

  /** Skips the calling test where the kernel does not list mappings (not Linux). */
  static void assumeSmaps() {
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(SMAPS), "needs " + SMAPS + " (Linux)");
  }

  /** The resident bytes of every mapping of a file under {@code dir}, summed. */
  static long residentBytes(Path dir) throws IOException {
    return mappings(dir, "Rss:").stream().mapToLong(Long::longValue).sum();
  }

  /** The size of the largest mapping of a file under {@code dir}, in bytes; 0 when none is mapped. */
  static long largestMappingBytes(Path dir) throws IOException {
    return mappings(dir, "Size:").stream().mapToLong(Long::longValue).max().orElse(0);
  }

  /** One {@code field} (in bytes) per mapping of a file under {@code dir}. */
  private static List<Long> mappings(Path dir, String field) throws IOException {
    String root = dir.toRealPath().toString();
    List<Long> values = new java.util.ArrayList<>();
    boolean underDir = false;
    for (String line : Files.readAllLines(SMAPS)) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 1 && f[0].matches("[0-9a-f]+-[0-9a-f]+")) {
        underDir = f.length >= 6 && f[5].startsWith(root);
      } else if (underDir && f.length == 3 && f[0].equals(field) && f[2].equals("kB")) {
        values.add(Long.parseLong(f[1]) << 10);
      }
    }
    return values;
  }
}
