package dev.spillway.server.reliability;

import dev.spillway.server.receive.OtlpWire;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real daemon in a child JVM, SIGKILLed at random moments while two mTLS gRPC clients send
 * spans (the second also metric data points and log records, in turn) and the downstream is up (drain), down (spill) or slow, then restarted on the same
 * directories. At the end the downstream comes up and the last daemon drains.
 *
 * <p>{@code durable}: every span acknowledged to a client reaches the downstream at least once.
 * {@code memory-first}: what is lost is bounded by what the memory tier may hold at the moment of
 * each kill ({@code limit_mib}), measured and reported.
 *
 * <p>Cycles: {@code -Dspillway.daemon.crash.cycles=N} (default 3 per mode). Figures go to stdout as
 * {@code RELIABILITY ...} lines and into docs/RELIABILITY.md.
 */
class DaemonCrashLoopTest {
  static final int SPANS_PER_REQUEST = 20;
  static final int ATTRIBUTE_BYTES = 200;

  @TempDir Path dir;

  @Test
  void durable_sigkillDuringIngestSpillAndDrain_everyAcknowledgedSpanDelivered() throws Exception {
    Result r = crashLoop("durable", 8);
    assertThat(r.acknowledged).as("the clients got through at all: %s", r).isPositive();
    assertThat(r.signalsAcknowledged).as("metrics and logs were in the loop: %s", r).isEqualTo(3);
    assertThat(r.lost).as(r.toString()).isZero();
  }

  @Test
  void memoryFirst_sigkill_lossStaysWithinWhatMemoryHeld() throws Exception {
    Result r = crashLoop("memory-first", 1);
    // Per kill, at most what the memory tier may hold: limit_mib of payload (requests of
    // requestBytes each), plus the one batch the drain loop had in flight.
    long perKill = (((1L << 20) / r.requestBytes) + 1) * SPANS_PER_REQUEST;
    assertThat(r.lost).as(r.toString()).isLessThanOrEqualTo(r.cycles * perKill);
  }

  record Result(String mode, int cycles, long acknowledged, long delivered, long lost, long duplicates,
      int requestBytes, long refusedRequests, long seconds, int signalsAcknowledged) {}

  Result crashLoop(String mode, int memoryLimitMib) throws Exception {
    int cycles = Integer.getInteger("spillway.daemon.crash.cycles", 3);
    Rig rig = new Rig(dir);
    rig.durability = mode;
    rig.memoryLimitMib = memoryLimitMib;
    rig.maxDiskMib = 1024;
    Path config = rig.writeConfig();
    List<String> jvm = List.of("-Xmx256m", "-XX:+UseSerialGC");
    long seed = Long.getLong("spillway.crash.seed", System.nanoTime());
    Random rnd = new Random(seed);
    StringBuilder phases = new StringBuilder();
    long started = System.nanoTime();
    try (RecordingDownstream downstream = new RecordingDownstream(rig.pki, rig.downstreamPort);
        SpanClient a = new SpanClient(rig.grpcPort, rig.pki, 1, SPANS_PER_REQUEST, ATTRIBUTE_BYTES);
        // The second client sends traces, metrics and logs in turn: every signal is in the loop.
        SpanClient b = new SpanClient(rig.grpcPort, rig.pki, 1L << 40, SPANS_PER_REQUEST, ATTRIBUTE_BYTES)
            .rotate(OtlpWire.Signal.TRACES, OtlpWire.Signal.METRICS, OtlpWire.Signal.LOGS)) {
      downstream.start();
      AtomicBoolean sending = new AtomicBoolean(true);
      Thread[] senders = {sender(a, sending), sender(b, sending)};
      for (Thread t : senders) {
        t.start();
      }
      for (int c = 0; c < cycles; c++) {
        // Phase of this cycle: the downstream up (drain), failing (spill) or slow (both at once).
        int phase = rnd.nextInt(3);
        phases.append("up failing slow".split(" ")[phase]).append(' ');
        downstream.failing = phase == 1;
        downstream.delayMillis = phase == 2 ? 50 : 0;
        DaemonProcess d = DaemonProcess.start(config, jvm, Duration.ofSeconds(60));
        if (c == 0) {
          // On a loaded machine a cold daemon may not finish one TLS handshake before a random
          // kill, and a run with nothing acknowledged proves nothing: the first daemon lives until
          // it acknowledged something (bounded), then meets its random kill like the others.
          long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
          while (a.acknowledged.isEmpty() && b.acknowledged.isEmpty() && System.nanoTime() < until) {
            TimeUnit.MILLISECONDS.sleep(20); // polling the clients' threads
          }
        }
        // A random moment in the life of this daemon: right after start, mid-ingest, mid-drain.
        long wait = 100 + rnd.nextInt(1900);
        TimeUnit.MILLISECONDS.sleep(wait); // the random kill moment itself
        d.kill();
      }
      sending.set(false);
      for (Thread t : senders) {
        t.join(30_000);
      }
      // The last daemon: downstream up, drain everything, orderly stop.
      downstream.failing = false;
      downstream.delayMillis = 0;
      java.util.Set<Long> acked = new java.util.HashSet<>(a.acknowledged);
      acked.addAll(b.acknowledged);
      DaemonProcess last = DaemonProcess.start(config, jvm, Duration.ofSeconds(60));
      boolean all = downstream.awaitAll(acked, mode.equals("durable") ? 120_000 : 20_000);
      // memory-first: wait for the drain to go quiet before counting what is missing
      long quietUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      long lastCount = -1;
      while (!all && System.nanoTime() < quietUntil) {
        long now = downstream.requests.get();
        if (now == lastCount) {
          break;
        }
        lastCount = now;
        TimeUnit.SECONDS.sleep(2); // polling the other process's drain progress
      }
      assertThat(last.terminate(Duration.ofSeconds(30))).as(last.output()).isZero();
      long lost = downstream.missing(acked);
      Result r = new Result(mode, cycles, acked.size(), downstream.deliveries.size(), lost,
          downstream.duplicates(), a.requestBytes(), a.failedRequests.get() + b.failedRequests.get(),
          TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started), b.acknowledgedBySignal.size());
      System.out.println("RELIABILITY daemon-crash " + r + " seed=" + seed + " phases=" + phases
          + " ackedBySignal=" + b.acknowledgedBySignal + "+traces:" + a.acknowledged.size()
          + " clientFailures=" + a.failures + b.failures + " samples=" + a.failureSamples + " downstreamRequests=" + downstream.requests.get());
      if (r.lost > 0 || r.acknowledged == 0) {
        System.out.println("last daemon output:\n" + last.output());
      }
      return r;
    }
  }

  private static Thread sender(SpanClient client, AtomicBoolean sending) {
    Thread t = new Thread(() -> {
      long deadline = System.nanoTime() + TimeUnit.HOURS.toNanos(6);
      while (sending.get() && System.nanoTime() < deadline) {
        if (!client.sendOne()) {
          try {
            TimeUnit.MILLISECONDS.sleep(20); // a client's own retry pause
          } catch (InterruptedException e) {
            return;
          }
        }
      }
    }, "span-client");
    t.setDaemon(true);
    return t;
  }
}
