package dev.spillway.core.drain;

import static dev.spillway.core.SpillFixtures.idOf;
import static dev.spillway.core.SpillFixtures.payload;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.Delivery;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.PayloadType;
import dev.spillway.core.internal.seal.TestKeys;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one drain, over a real spill buffer, with a scripted exporter and (where timing matters) a fake clock. */
class DrainTest {
  @TempDir Path tmp;
  TestKeys keys;

  @BeforeEach
  void setUp() {
    keys = TestKeys.in(tmp.resolve("keys"));
  }

  SpillBufferBuilder bufferBuilder() {
    return SpillBuffer.builder()
        .directory(tmp.resolve("spill"))
        .writerKeys(keys.issuer())
        .readerKeys(keys.unwrapper())
        .fsync(FsyncPolicy.none());
  }

  /** A clock that never really waits: a wait moves time on and is recorded. */
  static final class FakeTicker implements Drain.Ticker {
    final AtomicLong now = new AtomicLong();
    final List<Long> waits = Collections.synchronizedList(new ArrayList<>());

    @Override
    public long nanoTime() {
      return now.get();
    }

    @Override
    public void await(CountDownLatch wake, long nanos) {
      waits.add(nanos);
      now.addAndGet(nanos);
    }
  }

  /** Exports by answering from a script; ids of batches it answered SUCCESS for. */
  static final class ScriptedExporter implements BatchExporter {
    final ConcurrentLinkedQueue<Object> script = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Long> exported = new ConcurrentLinkedQueue<>();
    final AtomicInteger calls = new AtomicInteger();

    @Override
    public ExportOutcome export(Delivery batch, Duration timeout) {
      calls.incrementAndGet();
      Object next = script.poll();
      if (next instanceof RuntimeException e) {
        throw e;
      }
      if (next instanceof Error e) {
        throw e;
      }
      ExportOutcome o = next == null ? ExportOutcome.success() : (ExportOutcome) next;
      if (o.kind() == ExportOutcome.Kind.SUCCESS) {
        exported.add(idOf(batch.payload()));
      }
      return o;
    }
  }

  static void await(BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!done.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(5); // bounded look at the drain thread's progress
    }
    assertThat(done.getAsBoolean()).isTrue();
  }

  static RetryPolicy retry(long initialMs, long maxMs, long elapsedMs) {
    return new RetryPolicy(
        true, Duration.ofMillis(initialMs), Duration.ofMillis(maxMs), Duration.ofMillis(elapsedMs));
  }

  @Test
  void drain_healthyExporter_exportsInOrderAndAcksEverything() throws Exception {
    ScriptedExporter ex = new ScriptedExporter();
    try (SpillBuffer b = bufferBuilder().memoryLimitBytes(20_000).build()) {
      for (long i = 0; i < 50; i++) {
        b.offer(PayloadType.OTLP_TRACES, payload(i, 1000));
      }
      try (Drain d = Drain.builder(b, ex).pollInterval(Duration.ofMillis(50)).build()) {
        d.start();
        await(() -> ex.exported.size() == 50);
      }
      assertThat(ex.exported).containsExactlyElementsOf(range(50));
      assertThat(b.metrics().acked()).isEqualTo(50);
    }
  }

  @Test
  void drain_retryAfterHint_waitsTheHintedDelayNotTheBackoff() throws Exception {
    ScriptedExporter ex = new ScriptedExporter();
    ex.script.add(ExportOutcome.retryable("throttled", Optional.of(Duration.ofMillis(3_700))));
    FakeTicker clock = new FakeTicker();
    try (SpillBuffer b = bufferBuilder().build()) {
      b.offer(PayloadType.OTLP_TRACES, payload(1, 100));
      try (Drain d = Drain.builder(b, ex).retry(retry(10, 50, 60_000)).ticker(clock).build()) {
        d.start();
        await(() -> ex.exported.size() == 1);
      }
    }
    assertThat(clock.waits).containsExactly(TimeUnit.MILLISECONDS.toNanos(3_700));
  }

  @Test
  void drain_failingPastTheRetryBudget_releasesThenDeliversAfterRecovery() throws Exception {
    ScriptedExporter ex = new ScriptedExporter();
    for (int i = 0; i < 20; i++) {
      ex.script.add(ExportOutcome.retryable("down"));
    }
    FakeTicker clock = new FakeTicker();
    AtomicInteger released = new AtomicInteger();
    AtomicInteger retried = new AtomicInteger();
    DrainListener counts =
        new DrainListener() {
          @Override
          public void onRetry(ExportOutcome o) {
            retried.incrementAndGet();
          }

          @Override
          public void onReleased(ExportOutcome o) {
            released.incrementAndGet();
          }
        };
    try (SpillBuffer b = bufferBuilder().build()) {
      b.offer(PayloadType.OTLP_TRACES, payload(7, 100));
      try (Drain d =
          Drain.builder(b, ex).retry(retry(100, 400, 1_000)).ticker(clock).random(() -> 0.5)
              .listener(counts).build()) {
        d.start();
        await(() -> ex.exported.size() == 1);
      }
      assertThat(b.metrics().acked()).isEqualTo(1);
      assertThat(b.metrics().dropped()).isZero();
    }
    assertThat(ex.exported).containsExactly(7L);
    assertThat(released.get()).isPositive(); // released to the buffer, not dropped
    assertThat(retried.get()).isPositive();
    // factor 1.0: 100, 200, 400, 400 ... ms; the budget of 1 s releases before the 4th wait
    assertThat(clock.waits.subList(0, 4))
        .containsExactly(ms(100), ms(200), ms(400), ms(400));
  }

  @Test
  void drain_permanentRefusal_acksAndMovesOn() throws Exception {
    ScriptedExporter ex = new ScriptedExporter();
    ex.script.add(ExportOutcome.permanent("400 bad"));
    try (SpillBuffer b = bufferBuilder().build()) {
      b.offer(PayloadType.OTLP_TRACES, payload(1, 100));
      b.offer(PayloadType.OTLP_TRACES, payload(2, 100));
      try (Drain d = Drain.builder(b, ex).build()) {
        d.start();
        await(() -> ex.exported.size() == 1);
      }
      assertThat(ex.exported).containsExactly(2L);
      assertThat(b.metrics().acked()).isEqualTo(2);
    }
  }

  @Test
  void drain_exporterThrowsRuntimeException_retriesAndDelivers() throws Exception {
    ScriptedExporter ex = new ScriptedExporter();
    ex.script.add(new IllegalStateException("boom"));
    try (SpillBuffer b = bufferBuilder().build()) {
      b.offer(PayloadType.OTLP_TRACES, payload(3, 100));
      try (Drain d = Drain.builder(b, ex).retry(retry(1, 5, 1_000)).build()) {
        d.start();
        await(() -> ex.exported.size() == 1);
        assertThat(d.state()).isEqualTo(Drain.State.RUNNING);
      }
    }
    assertThat(ex.exported).containsExactly(3L);
  }

  @Test
  void drain_exporterThrowsError_reportsDeadAndLosesNothing() throws Exception {
    ScriptedExporter ex = new ScriptedExporter();
    ex.script.add(new NoClassDefFoundError("io/example/Missing"));
    AtomicReference<Throwable> died = new AtomicReference<>();
    try (SpillBuffer b = bufferBuilder().build()) {
      b.offer(PayloadType.OTLP_TRACES, payload(4, 100));
      Drain d =
          Drain.builder(b, ex).listener(new DrainListener() {
            @Override
            public void onDeath(Throwable cause) {
              died.set(cause);
            }
          }).build();
      d.start();
      await(() -> d.state() == Drain.State.DEAD);
      assertThat(d.isAlive()).isFalse();
      assertThat(died.get()).isInstanceOf(NoClassDefFoundError.class);
      d.close();
      assertThat(d.state()).isEqualTo(Drain.State.DEAD);
      // The batch was released, not acknowledged: the next consumer gets it.
      Delivery again = b.poll(Duration.ofSeconds(5));
      assertThat(again).isNotNull();
      assertThat(idOf(again.payload())).isEqualTo(4L);
      again.ack();
    }
  }

  /**
   * Dying must not depend on anything that can fail again: here the death listener throws an
   * Error too (as logging can, with no memory left or a class that no longer loads). The drain
   * still says dead, so the daemon's probes turn red instead of staying green over a dead drain.
   */
  @Test
  void drain_errorAndThenAnErrorWhileDying_stillReportsDead() throws Exception {
    ScriptedExporter ex = new ScriptedExporter();
    ex.script.add(new OutOfMemoryError("simulated"));
    try (SpillBuffer b = bufferBuilder().build()) {
      b.offer(PayloadType.OTLP_TRACES, payload(5, 100));
      Drain d =
          Drain.builder(b, ex).listener(new DrainListener() {
            @Override
            public void onDeath(Throwable cause) {
              throw new NoClassDefFoundError("ch/qos/logback/classic/spi/ThrowableProxy");
            }
          }).build();
      d.start();
      await(() -> d.state() == Drain.State.DEAD);
      assertThat(d.isAlive()).isFalse();
      d.close();
      Delivery again = b.poll(Duration.ofSeconds(5));
      assertThat(again).isNotNull();
      assertThat(idOf(again.payload())).isEqualTo(5L);
      again.ack();
    }
  }

  @Test
  void finish_healthy_exportsEverythingThenStops() throws Exception {
    ScriptedExporter ex = new ScriptedExporter();
    try (SpillBuffer b = bufferBuilder().build()) {
      for (long i = 0; i < 20; i++) {
        b.offer(PayloadType.OTLP_TRACES, payload(i, 100));
      }
      Drain d = Drain.builder(b, ex).build();
      d.start();
      assertThat(d.finish(Duration.ofSeconds(10))).isTrue();
      assertThat(d.state()).isEqualTo(Drain.State.STOPPED);
      assertThat(ex.exported).hasSize(20);
    }
  }

  @Test
  void finish_failingExporter_stopsAtOnceAndKeepsTheBatch() throws Exception {
    ScriptedExporter ex = new ScriptedExporter();
    for (int i = 0; i < 100; i++) {
      ex.script.add(ExportOutcome.retryable("down"));
    }
    try (SpillBuffer b = bufferBuilder().build()) {
      b.offer(PayloadType.OTLP_TRACES, payload(9, 100));
      Drain d = Drain.builder(b, ex).retry(retry(60_000, 60_000, 600_000)).build();
      d.start();
      await(() -> ex.calls.get() >= 1);
      long t0 = System.nanoTime();
      assertThat(d.finish(Duration.ofSeconds(30))).isFalse();
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
      assertThat(b.metrics().acked()).isZero();
      Delivery kept = b.poll(Duration.ofSeconds(5));
      assertThat(idOf(kept.payload())).isEqualTo(9L);
      kept.ack();
    }
  }

  @Test
  void consumers_several_exportEveryBatchAndCommitOnlyPastAcknowledged() throws Exception {
    // One batch's export hangs while the other consumers go on: after a restart it is delivered
    // again (its position was never committed), and nothing acknowledged is.
    CountDownLatch hang = new CountDownLatch(1);
    ConcurrentLinkedQueue<Long> exported = new ConcurrentLinkedQueue<>();
    BatchExporter ex =
        (batch, timeout) -> {
          long id = idOf(batch.payload());
          if (id == 5) {
            hang.await();
            return ExportOutcome.retryable("stopped");
          }
          exported.add(id);
          return ExportOutcome.success();
        };
    SpillBufferBuilder durable = bufferBuilder().durability(dev.spillway.core.Durability.DURABLE);
    try (SpillBuffer b = durable.build()) {
      for (long i = 0; i < 40; i++) {
        b.offer(PayloadType.OTLP_TRACES, payload(i, 100));
      }
      Drain d = Drain.builder(b, ex).consumers(3).retry(retry(1, 5, 0)).build();
      d.start();
      await(() -> exported.size() == 39);
      hang.countDown();
      d.close();
    }
    try (SpillBuffer b = durable.build()) {
      List<Long> again = new ArrayList<>();
      for (Delivery x; (x = b.poll(Duration.ofSeconds(2))) != null; ) {
        again.add(idOf(x.payload()));
        x.ack();
      }
      assertThat(again).contains(5L).doesNotHaveDuplicates();
      assertThat(again).allMatch(id -> id >= 5); // acknowledged before the hang: not again
    }
    assertThat(exported).doesNotContain(5L).hasSize(39);
  }

  @Test
  void backoff_growsExponentiallyWithJitterUpToMax() {
    RetryPolicy r = retry(1_000, 10_000, 30_000);
    Backoff low = new Backoff(r, () -> 0.0);
    assertThat(low.nextNanos()).isEqualTo(ms(500));
    assertThat(low.nextNanos()).isEqualTo(ms(1_000));
    Backoff high = new Backoff(r, () -> 0.999999);
    long last = 0;
    for (int i = 0; i < 10; i++) {
      last = high.nextNanos();
    }
    assertThat(last).isBetween(ms(14_000), ms(15_000)); // max 10 s × 1.5
    high.reset();
    assertThat(high.nextNanos()).isBetween(ms(1_400), ms(1_500));
  }

  static long ms(long ms) {
    return TimeUnit.MILLISECONDS.toNanos(ms);
  }

  static List<Long> range(long n) {
    List<Long> l = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      l.add(i);
    }
    return l;
  }
}
