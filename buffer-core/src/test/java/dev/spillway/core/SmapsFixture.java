package dev.spillway.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** This process's memory mappings as the kernel lists them ({@code /proc/self/smaps}, Linux). */
final class SmapsFixture {
  private SmapsFixture() {}

  /** The size of the largest mapping of a file under {@code dir}, in bytes; 0 when none is mapped. */
  static long largestMappingBytes(Path dir) throws IOException {
    String root = dir.toRealPath().toString();
    List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
    long largest = 0;
    boolean underDir = false;
    for (String line : lines) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 1 && f[0].matches("[0-9a-f]+-[0-9a-f]+")) {
        underDir = f.length >= 6 && f[5].startsWith(root);
      } else if (underDir && f.length == 3 && f[0].equals("Size:") && f[2].equals("kB")) {
        largest = Math.max(largest, Long.parseLong(f[1]) << 10);
      }
    }
    return largest;
  }
}
