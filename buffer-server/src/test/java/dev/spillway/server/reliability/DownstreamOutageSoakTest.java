package dev.spillway.server.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A steady rate of spans through the real daemon (child JVM) while the downstream flaps: half of
 * every period it is down, in turn stopped (connection refused), failing (UNAVAILABLE) and slow
 * (answers after 300 ms). The daemon's RSS is sampled from /proc/PID/status every second and must
 * stay under {@code -Xmx + limit_mib + OVERHEAD_MIB}; afterwards every acknowledged span has been
 * delivered and the spill is drained.
 *
 * <p>{@code -Dspillway.soak.seconds=N}: 20 by default (the flapping and slow-downstream check of the
 * default suite); 60 for the short soak, 600 for the documented 10-minute soak.
 */
class DownstreamOutageSoakTest {
  static final int XMX_MIB = 256;
  static final int LIMIT_MIB = 1;
  /** Beyond heap and memory tier: metaspace, code cache, thread stacks, Netty's direct buffers, Chronicle's mapped pages. */
  static final int OVERHEAD_MIB = 256;
  static final int PERIOD_SECONDS = 4;

  @TempDir Path dir;

  @Test
  void steadyRate_downstreamDownHalfTheTime_rssBounded_noAcknowledgedSpanLost_spillDrained() throws Exception {
    int seconds = Integer.getInteger("spillway.soak.seconds", 20);
    int rate = Integer.getInteger("spillway.soak.requestsPerSecond", 100);
    Rig rig = new Rig(dir);
    rig.durability = "memory-first";
    rig.memoryLimitMib = LIMIT_MIB;
    rig.maxDiskMib = 4096;
    rig.retry = "initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 2s";
    long maxRss = 0;
    long maxAnon = 0;
    long maxPendingDisk = 0;
    try (RecordingDownstream downstream = new RecordingDownstream(rig.pki, rig.downstreamPort);
        DaemonProcess d = DaemonProcess.start(rig.writeConfig(), List.of("-Xmx" + XMX_MIB + "m"), Duration.ofSeconds(60));
        SpanClient client = new SpanClient(rig.grpcPort, rig.pki, 1, 20, 200)) {
      downstream.start();
      AtomicBoolean sending = new AtomicBoolean(true);
      Thread sender = new Thread(() -> {
        long interval = TimeUnit.SECONDS.toNanos(1) / rate;
        long next = System.nanoTime();
        long end = next + TimeUnit.SECONDS.toNanos(seconds + 5L);
        while (sending.get() && System.nanoTime() < end) {
          client.sendOne();
          next += interval;
          long wait = next - System.nanoTime();
          if (wait > 0) {
            LockSupport.parkNanos(wait); // pacing the steady rate
          }
        }
      }, "steady-client");
      sender.start();
      long start = System.nanoTime();
      String[] downModes = {"stopped", "failing", "slow"};
      for (int s = 0; s < seconds; s++) {
        int slot = s % PERIOD_SECONDS;
        int period = s / PERIOD_SECONDS;
        if (slot == 0) { // first half of the period: down, in one of three ways
          String mode = downModes[period % downModes.length];
          if (mode.equals("stopped")) {
            downstream.stop();
          } else if (mode.equals("failing")) {
            downstream.failing = true;
          } else {
            downstream.delayMillis = 300;
          }
        } else if (slot == PERIOD_SECONDS / 2) { // second half: up
          downstream.failing = false;
          downstream.delayMillis = 0;
          downstream.start();
        }
        long rssKib = d.rssKib();
        maxRss = Math.max(maxRss, rssKib);
        maxAnon = Math.max(maxAnon, rssAnonKib(d.pid()));
        String m = DaemonProcess.get(rig.metricsPort, "/metrics");
        maxPendingDisk = Math.max(maxPendingDisk, (long) DaemonProcess.metric(m, "spillway_buffer_disk_batches_pending"));
        long nextSecond = start + TimeUnit.SECONDS.toNanos(s + 1);
        LockSupport.parkNanos(nextSecond - System.nanoTime()); // one sample per second
      }
      sending.set(false);
      sender.join(30_000);
      downstream.failing = false;
      downstream.delayMillis = 0;
      downstream.start();
      boolean all = downstream.awaitAll(client.acknowledged, 180_000);
      String metrics = DaemonProcess.get(rig.metricsPort, "/metrics");
      long pending = -1;
      long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < drainDeadline) {
        metrics = DaemonProcess.get(rig.metricsPort, "/metrics");
        pending = (long) DaemonProcess.metric(metrics, "spillway_buffer_disk_batches_pending");
        if (pending == 0) {
          break;
        }
        TimeUnit.MILLISECONDS.sleep(200); // polling the other process's metrics
      }
      long heapMib = d.heapUsedKib(true) >> 10;
      String line = "RELIABILITY soak seconds=" + seconds + " rate=" + rate + " req/s (" + rate * 20 + " spans/s)"
          + " acknowledged=" + client.acknowledged.size() + " refusedRequests=" + client.failedRequests.get()
          + " delivered=" + downstream.deliveries.size() + " lost=" + downstream.missing(client.acknowledged)
          + " duplicates=" + downstream.duplicates() + " maxRss=" + (maxRss >> 10) + " MiB maxRssAnon="
          + (maxAnon >> 10) + " MiB bound=" + (XMX_MIB + LIMIT_MIB + OVERHEAD_MIB) + " MiB maxDiskPending="
          + maxPendingDisk + " batches pendingAfter=" + pending + " heapAfterGc=" + heapMib + " MiB spilled="
          + DaemonProcess.metric(metrics, "spillway_spans_spilled_total");
      System.out.println(line);
      Files.writeString(Path.of("target", "reliability-soak.txt"), line + "\n");
      assertThat(all).as(line).isTrue();
      assertThat(pending).as(line).isZero();
      assertThat(maxRss >> 10).as(line).isLessThanOrEqualTo(XMX_MIB + LIMIT_MIB + OVERHEAD_MIB);
      assertThat(d.terminate(Duration.ofSeconds(30))).isZero();
    }
  }

  static long rssAnonKib(long pid) throws java.io.IOException {
    for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (l.startsWith("RssAnon:")) {
        return Long.parseLong(l.replaceAll("\\D", ""));
      }
    }
    return -1;
  }
}
