package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.internal.seal.TestKeys;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durable mode under SIGKILL: a child JVM offers and drains; the test kills it at random moments,
 * restarts it, and finally drains what is left. Every batch acknowledged to the producer must be
 * delivered at least once, and nothing never offered may be delivered. Cycles:
 * -Dspillway.crash.cycles (default 10; the long run in docs/RELIABILITY.md uses more).
 */
class CrashRecoveryTest {
  @TempDir Path tmp;

  @Test
  void sigkillDuringIngestAndDrain_durable_losesNothingAcknowledged() throws Exception {
    int cycles = Integer.getInteger("spillway.crash.cycles", 10);
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    Path dir = tmp.resolve("spill");
    Set<Long> tried = new HashSet<>();
    Set<Long> acked = new HashSet<>();
    Set<Long> delivered = new HashSet<>();
    long duplicates = 0;
    Random random = new Random(42);
    long nextId = 0;
    Path logs = Path.of("target", "crash-logs");
    java.nio.file.Files.createDirectories(logs);
    java.util.Map<Integer, long[]> cycleRanges = new java.util.TreeMap<>();
    for (int cycle = 0; cycle < cycles; cycle++) {
      Process child =
          new ProcessBuilder(SpillFixtures.javaCommand(SpillChild.class, "crash", dir.toString(),
                  keys.dir().toString(), Long.toString(nextId)))
              .redirectError(logs.resolve("child-" + cycle + ".log").toFile())
              .start();
      CountDownLatch underLoad = new CountDownLatch(20);
      AtomicLong maxTried = new AtomicLong(nextId - 1);
      Set<Long> cycleTried = java.util.concurrent.ConcurrentHashMap.newKeySet();
      Set<Long> cycleAcked = java.util.concurrent.ConcurrentHashMap.newKeySet();
      java.util.List<Long> cycleDelivered = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
      Thread reader =
          new Thread(() -> {
            try (BufferedReader r =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
              for (String line = r.readLine(); line != null; line = r.readLine()) {
                String[] parts = line.split(" ");
                if (parts.length != 2) {
                  continue;
                }
                long id = Long.parseLong(parts[1]);
                switch (parts[0]) {
                  case "TRY" -> {
                    cycleTried.add(id);
                    maxTried.accumulateAndGet(id, Math::max);
                  }
                  case "ACK" -> {
                    cycleAcked.add(id);
                    underLoad.countDown();
                  }
                  case "DLV" -> cycleDelivered.add(id);
                  default -> {}
                }
              }
            } catch (java.io.IOException ignored) {
              // the child was killed
            }
          });
      reader.start();
      assertThat(underLoad.await(60, TimeUnit.SECONDS)).as("child %d under load", cycle).isTrue();
      Thread.sleep(random.nextInt(400)); // a random moment during ingest, spill and drain
      // SIGKILL through the handle: Process.destroyForcibly() would also close our end of the
      // child's stdout and throw away lines still in the pipe.
      child.toHandle().destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      reader.join(30_000);
      tried.addAll(cycleTried);
      cycleRanges.put(cycle, new long[] {
          cycleAcked.stream().mapToLong(Long::longValue).min().orElse(-1),
          cycleAcked.stream().mapToLong(Long::longValue).max().orElse(-1)});
      acked.addAll(cycleAcked);
      for (Long id : cycleDelivered) {
        if (!delivered.add(id)) {
          duplicates++;
        }
      }
      nextId = maxTried.get() + 1;
    }
    // Drain what is left in this JVM.
    try (SpillBuffer b = SpillChild.buffer(dir, keys.dir(), Durability.DURABLE)) {
      for (int i = 0; i < 1_000_000; i++) {
        Delivery d = b.poll(Duration.ofSeconds(2));
        if (d == null) {
          break;
        }
        if (!delivered.add(SpillFixtures.idOf(d.payload()))) {
          duplicates++;
        }
        d.ack();
      }
      BufferMetrics m = b.metrics();
      System.out.printf(
          "crash test: %d cycles, %d offered, %d acknowledged, %d delivered, %d duplicates, %d torn, %d quarantined%n",
          cycles, tried.size(), acked.size(), delivered.size(), duplicates, m.torn(), m.quarantined());
      assertThat(m.quarantined()).as("nothing corrupt").isZero();
    }
    assertThat(acked).as("acknowledged batches").isNotEmpty();
    Set<Long> lost = new HashSet<>(acked);
    lost.removeAll(delivered);
    if (!lost.isEmpty()) {
      for (int c = 0; c < cycles; c++) {
        String log = java.nio.file.Files.readString(logs.resolve("child-" + c + ".log"));
        System.out.println("---- child " + c + " warnings:");
        log.lines().filter(l -> l.contains("WARN") || l.contains("ERROR") || l.contains("Exception"))
            .limit(20).forEach(System.out::println);
      }
      for (var en : cycleRanges.entrySet()) {
        long lo = en.getValue()[0];
        long hi = en.getValue()[1];
        java.util.List<Long> mine = lost.stream().filter(id -> id >= lo && id <= hi).sorted().toList();
        System.out.println("cycle " + en.getKey() + " acked " + lo + ".." + hi + " lost " + mine.size()
            + (mine.isEmpty() ? "" : " first " + mine.get(0) + " last " + mine.get(mine.size() - 1)));
      }
    }
    assertThat(lost).as("acknowledged but never delivered").isEmpty();
    // At-least-once allows duplicates, but only what a kill caught between delivery and the drain
    // checkpoint (written at most 20 ms behind): 0.1-6.5 % of what was acknowledged so far. A
    // checkpoint that stopped moving delivers the whole spill again after every kill, far more.
    assertThat(duplicates).as("delivered again after kills, of %d acknowledged", acked.size())
        .isLessThanOrEqualTo(acked.size() / 2);
    Set<Long> phantom = new HashSet<>(delivered);
    phantom.removeAll(tried);
    assertThat(phantom).as("delivered but never offered").isEmpty();
    SpillFixtures.assertNoCanaryOnDisk(dir);
  }
}
