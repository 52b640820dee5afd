package dev.spillway.core;

import dev.spillway.core.keys.LocalKeys;
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
 *   <li>{@code checkpoint-crash DIR KEYS COUNT HALT_AT}: offers ids 0..COUNT-1, then drains,
 *       printing "DLV id" after each ack; halts the JVM (exit 77) right after the HALT_AT-th drain
 *       checkpoint write, before the spill's own position moves: a crash between the two.
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
      case "diskfull" -> diskFull(out, dir, keys, Long.parseLong(args[3]));
      case "checkpoint-crash" -> checkpointCrash(out, dir, keys, Integer.parseInt(args[3]), Integer.parseInt(args[4]));
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

  /**
   * Offers until the device is full (refused), reports, waits for "FREED" on stdin, offers again,
   * then drains everything. Prints counters; exits 0 unless something breaks.
   */
  private static void diskFull(PrintStream out, Path dir, Path keys, long minFree) throws Exception {
    java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
    SpillBufferBuilder builder = SpillBuffer.builder();
    builder.freeSpaceGuard = minFree >= 0; // -1: no guard, let Chronicle hit the full device
    try (SpillBuffer b = builder
        .directory(dir)
        .writerKeys(LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)))
        .readerKeys(LocalKeys.unwrapper(keys.resolve(LocalKeys.READER_FILE)))
        .memoryLimitBytes(0)
        .maxDiskBytes(1L << 30)
        .minFreeDiskBytes(Math.max(0, minFree))
        .compression(Compression.NONE)
        .segmentBytes(8 << 20)
        .fsync(FsyncPolicy.none())
        .build()) {
      long id = 0;
      long accepted = 0;
      java.util.Set<Long> acceptedIds = new java.util.TreeSet<>();
      int refusedInARow = 0;
      String reason = "";
      for (int i = 0; i < 100_000 && refusedInARow < 20; i++, id++) {
        OfferResult r = b.offer(PayloadType.OTLP_TRACES, SpillFixtures.payload(id, 16_000));
        if (r.accepted()) {
          accepted++;
          acceptedIds.add(id);
          refusedInARow = 0;
        } else {
          refusedInARow++;
          reason = r.reason();
        }
      }
      out.println("FULL accepted=" + accepted + " faults=" + b.metrics().storageFaults() + " reason=" + reason);
      String line = in.readLine();
      if (!"FREED".equals(line)) {
        throw new IllegalStateException("expected FREED, got " + line);
      }
      long more = 0;
      for (int i = 0; i < 200 && more < 50; i++, id++) {
        if (b.offer(PayloadType.OTLP_TRACES, SpillFixtures.payload(id, 16_000)).accepted()) {
          more++;
          acceptedIds.add(id);
        }
      }
      out.println("RESUMED accepted=" + more);
      long drained = 0;
      for (int i = 0; i < 100_000; i++) {
        Delivery d = b.poll(Duration.ofSeconds(2));
        if (d == null) {
          break;
        }
        drained++;
        acceptedIds.remove(SpillFixtures.idOf(d.payload()));
        d.ack();
      }
      out.println("DRAINED " + drained + " quarantined=" + b.metrics().quarantined()
          + " torn=" + b.metrics().torn() + " missing=" + acceptedIds);
    }
  }

  private static void checkpointCrash(PrintStream out, Path dir, Path keys, int count, int haltAt) throws Exception {
    java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
    Committer.beforeLogCommit = () -> {
      if (writes.incrementAndGet() == haltAt) {
        out.println("HALT");
        Runtime.getRuntime().halt(77);
      }
    };
    SpillBuffer b = buffer(dir, keys, Durability.DURABLE);
    for (long id = 0; id < count; id++) {
      if (!b.offer(PayloadType.OTLP_TRACES, SpillFixtures.payload(id, 2_000)).accepted()) {
        throw new IllegalStateException("refused " + id);
      }
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      Delivery d = b.poll(Duration.ofMillis(100));
      if (d != null) {
        // Printed before the ack: the halt runs on the commit thread and may come as soon as
        // ack() has handed the commit over, before a line printed after it.
        out.println("DLV " + SpillFixtures.idOf(d.payload()));
        d.ack();
        Thread.sleep(20); // one commit per ack, so the halt comes after a known prefix
      }
    }
    out.println("NO-HALT");
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
