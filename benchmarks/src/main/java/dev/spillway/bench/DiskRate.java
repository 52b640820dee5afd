package dev.spillway.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The disk's sustained sequential write rate: {@code bytes} written in 8 MiB chunks of random
 * (incompressible) data, fdatasync every 256 MiB and at the end, timed from the first write to
 * the last fdatasync — the same measure as {@code dd bs=8M conv=fdatasync}, so page-cache speed
 * cannot pass for disk speed. The file is deleted afterwards.
 */
public final class DiskRate {
  private static final int CHUNK = 8 << 20;
  private static final long SYNC_EVERY = 256L << 20;

  private DiskRate() {}

  /** Bytes per second. */
  public static double measure(Path dir, long bytes) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve("spillway-disk-rate.bin");
    ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK);
    byte[] random = new byte[CHUNK];
    ThreadLocalRandom.current().nextBytes(random);
    chunk.put(random).flip();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      long start = System.nanoTime();
      long written = 0;
      long sinceSync = 0;
      while (written < bytes) {
        chunk.rewind();
        while (chunk.hasRemaining()) {
          written += ch.write(chunk);
        }
        sinceSync += CHUNK;
        if (sinceSync >= SYNC_EVERY) {
          ch.force(false);
          sinceSync = 0;
        }
      }
      ch.force(false);
      long nanos = System.nanoTime() - start;
      return written / (nanos / 1e9);
    } finally {
      Files.deleteIfExists(file);
    }
  }

  static int run(String[] args) throws IOException {
    Path dir = BenchDirs.root();
    long gib = 2;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--dir" -> dir = Path.of(args[++i]);
        case "--gib" -> gib = Long.parseLong(args[++i]);
        default -> {
          System.err.println("usage: disk-rate [--dir DIR] [--gib N]");
          return 2;
        }
      }
    }
    double rate = measure(dir, gib << 30);
    System.out.printf("%.0f MB/s sustained sequential write with fdatasync (%d GiB in %s)%n", rate / 1e6, gib, dir);
    return 0;
  }
}
