package dev.spillway.core;

import static dev.spillway.core.SpillFixtures.builder;
import static dev.spillway.core.SpillFixtures.payload;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.internal.seal.TestKeys;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An idle buffer costs no CPU: its poll loop waits on a condition, it does not spin. Measured with
 * thread CPU time (not wall clock) over one 10 s window shared by many buffers at once, fresh and
 * after a spill has drained, in both durability modes, several of each (the unread-count race
 * this guards against is timing-dependent).
 */
class IdleCpuTest {
  /** Each poller may use at most 1 % of one core over the window. */
  static final Duration WINDOW = Duration.ofSeconds(10);
  static final long MAX_CPU_NANOS = WINDOW.toNanos() / 100;
  static final int RUNS_EACH = 3;

  @TempDir Path tmp;

  /** One buffer and the thread that polls it in a loop, acknowledging everything. */
  static final class Poller implements AutoCloseable {
    final String name;
    final SpillBuffer buffer;
    final Thread thread;
    final AtomicLong acked = new AtomicLong();
    volatile boolean running = true;

    Poller(String name, SpillBuffer buffer) {
      this.name = name;
      this.buffer = buffer;
      this.thread = new Thread(this::loop, "poller-" + name);
      thread.setDaemon(true);
      thread.start();
    }

    private void loop() {
      while (running) {
        try {
          Delivery d = buffer.poll(Duration.ofSeconds(1));
          if (d != null) {
            d.ack();
            acked.incrementAndGet();
          }
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join(TimeUnit.SECONDS.toMillis(5));
      buffer.close();
    }
  }

  @Test
  void poll_idleFreshAndAfterADrainedSpill_bothModes_usesUnderOnePercentOfACore() throws Exception {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    assertThat(mx.isCurrentThreadCpuTimeSupported()).isTrue();
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    List<Poller> pollers = new ArrayList<>();
    try {
      int n = 0;
      for (Durability mode : Durability.values()) {
        for (int run = 0; run < RUNS_EACH; run++) {
          pollers.add(new Poller(mode + "-fresh-" + run, buffer(keys, mode, n++)));
          Poller drained = new Poller(mode + "-drained-" + run, buffer(keys, mode, n++));
          pollers.add(drained);
          // Offers race the poller's reads: the unread count must still come back to 0.
          int count = 300;
          for (long id = 0; id < count; id++) {
            assertThat(drained.buffer.offer(PayloadType.OTLP_TRACES, payload(id, 4000)).accepted()).isTrue();
          }
          awaitAcked(drained, count);
        }
      }
      for (Poller p : pollers) {
        awaitPendingZero(p);
      }
      long[] before = new long[pollers.size()];
      for (int i = 0; i < pollers.size(); i++) {
        before[i] = mx.getThreadCpuTime(pollers.get(i).thread.getId());
      }
      Thread.sleep(WINDOW.toMillis()); // the measurement window itself: nothing to wait for
      for (int i = 0; i < pollers.size(); i++) {
        Poller p = pollers.get(i);
        long used = mx.getThreadCpuTime(p.thread.getId()) - before[i];
        System.out.printf("idle poller %s: %.2f ms CPU in %s%n", p.name, used / 1e6, WINDOW);
        assertThat(used).as("CPU nanos used by the idle poller %s in %s", p.name, WINDOW).isLessThan(MAX_CPU_NANOS);
        assertThat(p.buffer.metrics().diskRecordsPending()).as("pending of %s", p.name).isZero();
        assertThat(p.buffer.metrics().memoryBatches()).as("memory batches of %s", p.name).isZero();
      }
    } finally {
      for (Poller p : pollers) {
        p.close();
      }
    }
  }

  private SpillBuffer buffer(TestKeys keys, Durability mode, int n) throws Exception {
    return builder(tmp.resolve("spill-" + n), keys)
        .durability(mode)
        .memoryLimitBytes(64 << 10) // a few batches: the rest spills
        .build();
  }

  private static void awaitAcked(Poller p, long count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (p.acked.get() < count && System.nanoTime() < deadline) {
      Thread.sleep(10); // polling a counter the poller thread moves; bounded
    }
    assertThat(p.acked.get()).as("acked by %s", p.name).isEqualTo(count);
  }

  private static void awaitPendingZero(Poller p) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (p.buffer.metrics().diskRecordsPending() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(p.buffer.metrics().diskRecordsPending()).as("pending of %s", p.name).isZero();
  }
}
