package dev.spillway.core;

import dev.spillway.core.keys.LocalKeys;
import dev.spillway.core.seal.PayloadType;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A child JVM for crash and cross-process tests. Modes:
 *
 * <ul>
 *   <li>{@code crash DIR KEYS FIRST_ID}: a durable buffer with both halves; offers ids from
 *       FIRST_ID on, printing "ACK id" after each accepted offer, while a drain thread prints
 *       "DLV id" before acknowledging each delivery. Runs until killed (bounded to 10 minutes).
 *   <li>{@code write DIR KEYS FIRST_ID COUNT}: a writer-only buffer offering COUNT ids, then exits.
 *   <li>{@code touch DIR KEYS}: opens and closes a buffer (for the no-analytics test).
 * </ul>
 */
public final class SpillChild {
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true);
    Path dir = Path.of(args[1]);
    Path keys = Path.of(args[2]);
    switch (args[0]) {
      case "crash" -> crash(out, dir, keys, Long.parseLong(args[3]));
      case "write" -> write(out, dir, keys, Long.parseLong(args[3]), Integer.parseInt(args[4]));
      case "touch" -> {
        try (SpillBuffer b = buffer(dir, keys, Durability.DURABLE)) {
          b.offer(PayloadType.OTLP_TRACES, SpillFixtures.payload(1, 100));
        }
        out.println("DONE");
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
  }

  static SpillBuffer buffer(Path dir, Path keys, Durability durability) throws Exception {
    return SpillBuffer.builder()
        .directory(dir)
        .writerKeys(LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)))
        .readerKeys(LocalKeys.unwrapper(keys.resolve(LocalKeys.READER_FILE)))
        .durability(durability)
        .segmentBytes(256 << 10)
        .fsync(FsyncPolicy.none())
        .build();
  }

  private static void crash(PrintStream out, Path dir, Path keys, long firstId) throws Exception {
    SpillBuffer b = buffer(dir, keys, Durability.DURABLE);
    Thread drain =
        new Thread(
            () -> {
              try {
                while (true) {
                  Delivery d = b.poll(Duration.ofMillis(50));
                  if (d != null) {
                    out.println("DLV " + SpillFixtures.idOf(d.payload()));
                    d.ack();
                  }
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "drain");
    drain.setDaemon(true);
    drain.start();
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    for (long id = firstId; System.nanoTime() < deadline; id++) {
      out.println("TRY " + id);
      if (b.offer(PayloadType.OTLP_TRACES, SpillFixtures.payload(id, 2_000)).accepted()) {
        out.println("ACK " + id);
      }
    }
  }

  private static void write(PrintStream out, Path dir, Path keys, long firstId, int count) throws Exception {
    try (SpillWriter w =
        SpillBuffer.builder()
            .directory(dir)
            .writerKeys(LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)))
            .segmentBytes(256 << 10)
            .fsync(FsyncPolicy.none())
            .buildWriter()) {
      for (long id = firstId; id < firstId + count; id++) {
        if (!w.offer(PayloadType.OTLP_TRACES, SpillFixtures.payload(id, 3_000)).accepted()) {
          throw new IllegalStateException("refused " + id);
        }
        if (id % 50 == 0) {
          Thread.sleep(5); // let the reader catch up now and then, so reads race with appends
        }
      }
    }
    out.println("DONE");
  }
}
