package dev.spillway.core.export;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.spillway.core.BufferMetrics;
import dev.spillway.core.Delivery;
import dev.spillway.core.OfferResult;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.drain.Drain;
import dev.spillway.core.drain.ExportOutcome;
import dev.spillway.core.drain.RetryPolicy;
import dev.spillway.core.export.internal.ThrottledLog;
import io.opentelemetry.sdk.common.CompletableResultCode;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * A delegate exporter with a spill buffer in front of it: what {@link SpillingSpanExporter},
 * {@link SpillingLogRecordExporter} and {@link SpillingMetricExporter} share, whatever the signal.
 * Each of those is a thin adapter from its SDK exporter interface to this class; their javadoc
 * states the contract (accepting never waits on the delegate; flush means exported or on disk;
 * shutdown seals memory first, then drains with the time left).
 *
 * <p>{@link #export} writes the items to OTLP bytes before it returns (the SDK may reuse them
 * afterwards) and offers them to the buffer. One drain thread replays the buffer to the delegate
 * through the core {@link Drain}: items still in the memory tier are handed over as the SDK gave
 * them ({@link OriginalBatches}), unless the signal's items are reused by the SDK; batches read
 * back from disk are decoded by the {@link SignalCodec}. Thread-safe.
 *
 * @param <T> the SDK's item type
 */
final class BufferedDelegate<T> {
  /** Most a poll waits before the drain looks at its stop flags. */
  private static final Duration POLL_INTERVAL = Duration.ofMillis(500);

  /** The wrapped exporter's three calls, whatever its SDK interface. */
  record Delegate<T>(
      String name,
      Function<Collection<T>, CompletableResultCode> export,
      Supplier<CompletableResultCode> flush,
      Supplier<CompletableResultCode> shutdown) {}

  private final SignalCodec<T> codec;
  private final Delegate<T> delegate;
  private final Logger log;
  private final String threadName;
  private final SpillBuffer buffer;
  private final Drain drain;
  private final OriginalBatches<T> originals;
  private final long exportTimeoutNanos;
  private final Duration shutdownDrainTimeout;
  private final List<AutoCloseable> closeAfterBuffer;
  private final AtomicBoolean isShutdown = new AtomicBoolean();
  private final CompletableResultCode shutdownResult = new CompletableResultCode();
  private final ThrottledLog refuseLog;
  private final ThrottledLog replayLog;
  private final AtomicLong acceptedItems = new AtomicLong();
  private final AtomicLong refusedItems = new AtomicLong();

  private BufferedDelegate(
      SignalCodec<T> codec,
      Delegate<T> delegate,
      SpillBuffer buffer,
      ReplaySettings settings,
      boolean keepOriginals,
      String threadName,
      Logger log) {
    this.codec = codec;
    this.delegate = delegate;
    this.log = log;
    this.threadName = threadName;
    this.buffer = buffer;
    this.exportTimeoutNanos = settings.exportTimeout.toNanos();
    this.shutdownDrainTimeout = settings.shutdownDrainTimeout;
    this.closeAfterBuffer = List.copyOf(settings.closeAfterBuffer);
    this.originals = new OriginalBatches<>(keepOriginals ? OriginalBatches.DEFAULT_MAX_PAYLOAD_BYTES : 0);
    this.refuseLog = new ThrottledLog(log, 1, TimeUnit.MINUTES);
    this.replayLog = new ThrottledLog(log, 1, TimeUnit.MINUTES);
    this.drain =
        Drain.builder(buffer, (d, timeout) -> replay(d))
            .retry(new RetryPolicy(true, settings.backoffInitial, settings.backoffMax, Duration.ZERO))
            .exportTimeout(settings.exportTimeout)
            .pollInterval(POLL_INTERVAL)
            .threadName(threadName)
            .build();
  }

  /**
   * Opens the buffer {@code bufferConfig} describes and starts the drain thread {@code
   * threadName}. {@code keepOriginals} false: every batch is decoded from its bytes before replay,
   * for SDK items that are reused once export returns (metrics in reusable-data memory mode).
   */
  static <T> BufferedDelegate<T> start(
      SignalCodec<T> codec,
      Delegate<T> delegate,
      SpillBufferBuilder bufferConfig,
      ReplaySettings settings,
      boolean keepOriginals,
      String threadName,
      Logger log)
      throws IOException {
    SpillBuffer buffer = bufferConfig.build();
    BufferedDelegate<T> d =
        new BufferedDelegate<>(codec, delegate, buffer, settings, keepOriginals, threadName, log);
    d.drain.start();
    return d;
  }

  // ------------------------------------------------------------------ export

  CompletableResultCode export(Collection<T> items) {
    if (isShutdown.get()) {
      return CompletableResultCode.ofFailure();
    }
    if (items.isEmpty()) {
      return CompletableResultCode.ofSuccess();
    }
    return offer(items);
  }

  /**
   * Offers {@code items} as one batch, or, when their OTLP bytes are more than the buffer takes in
   * one batch ({@link SpillBuffer#maxBatchBytes}), as two halves, each split again as needed.
   * One item too large on its own is refused with a warning; the rest are offered.
   */
  private CompletableResultCode offer(Collection<T> items) {
    int count = codec.count(items);
    // Serialised here, before returning: the SDK may reuse its objects once export returns.
    byte[] payload = codec.toBytes(items);
    if (payload.length > buffer.maxBatchBytes()) {
      if (items.size() > 1) {
        List<T> all = List.copyOf(items);
        int half = all.size() / 2;
        return CompletableResultCode.ofAll(
            List.of(offer(all.subList(0, half)), offer(all.subList(half, all.size()))));
      }
      refusedItems.addAndGet(count);
      refuseLog.warn("refused {} {}: one item of {} bytes as OTLP, more than the buffer takes in one batch"
          + " ({} bytes)", count, codec.itemsName(), payload.length, buffer.maxBatchBytes());
      return CompletableResultCode.ofFailure();
    }
    originals.put(payload, items);
    OfferResult r;
    try {
      r = buffer.offer(codec.payloadType(), payload);
    } catch (RuntimeException e) {
      r = new OfferResult(OfferResult.Outcome.REFUSED, e.toString());
    }
    if (!r.accepted()) {
      originals.remove(payload);
      refusedItems.addAndGet(count);
      refuseLog.warn("spill buffer refused {} {}: {}", count, codec.itemsName(), r.reason());
      return CompletableResultCode.ofFailure();
    }
    acceptedItems.addAndGet(count);
    return CompletableResultCode.ofSuccess();
  }

  /** One attempt on the delegate, for the drain. */
  private ExportOutcome replay(Delivery d) {
    if (d.payloadType() != codec.payloadType()) {
      replayLog.warn("dropping a spilled {} batch: this exporter replays {} only",
          d.payloadType(), codec.payloadType());
      return ExportOutcome.permanent("not a " + codec.payloadType() + " batch");
    }
    Collection<T> items = originals.get(d.payload());
    if (items == null) {
      try {
        items = codec.fromBytes(d.payload());
      } catch (InvalidProtocolBufferException e) {
        replayLog.warn("dropping a spilled batch that is not an OTLP {} request: {}",
            codec.payloadType(), e.getMessage());
        return ExportOutcome.permanent("not an OTLP " + codec.payloadType() + " request");
      }
    }
    CompletableResultCode r;
    try {
      r = delegate.export().apply(items);
    } catch (RuntimeException e) {
      log.debug("delegate export threw", e);
      return ExportOutcome.retryable("the delegate threw " + e.getClass().getName());
    }
    r.join(exportTimeoutNanos, TimeUnit.NANOSECONDS);
    if (r.isSuccess()) {
      originals.remove(d.payload());
      return ExportOutcome.success();
    }
    Throwable cause = r.getFailureThrowable();
    String why = !r.isDone()
        ? "did not answer within " + TimeUnit.NANOSECONDS.toMillis(exportTimeoutNanos) + " ms"
        : cause == null ? "failed" : "failed (" + cause.getMessage() + ")";
    replayLog.warn("delegate {} {}: batches stay in the spill buffer until it recovers", delegate.name(), why);
    return ExportOutcome.retryable("delegate " + why);
  }

  // ------------------------------------------------------------------ flush and shutdown

  CompletableResultCode flush() {
    if (isShutdown.get()) {
      return shutdownResult;
    }
    boolean sealed = sealMemory("flush");
    CompletableResultCode result = new CompletableResultCode();
    CompletableResultCode delegateFlush = delegate.flush().get();
    delegateFlush.whenComplete(() -> complete(result, sealed && delegateFlush.isSuccess()));
    return result;
  }

  CompletableResultCode shutdown() {
    if (!isShutdown.compareAndSet(false, true)) {
      return shutdownResult;
    }
    // First, whatever the delegate is doing: on disk, nothing accepted depends on this JVM.
    boolean sealed = sealMemory("shutdown");
    Thread finisher = new Thread(() -> finishShutdown(sealed), threadName + "-shutdown");
    finisher.setDaemon(true);
    finisher.start();
    return shutdownResult;
  }

  private void finishShutdown(boolean sealed) {
    boolean ok = sealed;
    try {
      boolean caughtUp = drain.finish(shutdownDrainTimeout);
      if (!caughtUp) {
        log.info("shutdown: the spill backlog stays sealed on disk for the next start");
      }
    } catch (RuntimeException e) {
      log.error("shutdown: the final replay failed; the rest stays sealed", e);
    }
    try {
      buffer.close(); // seals anything still in memory
    } catch (RuntimeException e) {
      ok = false;
      log.error("shutdown: closing the spill buffer failed", e);
    }
    for (AutoCloseable c : closeAfterBuffer) {
      try {
        c.close();
      } catch (Exception e) {
        log.warn("shutdown: closing {} failed: {}", c, e.toString());
      }
    }
    CompletableResultCode delegateShutdown;
    try {
      delegateShutdown = delegate.shutdown().get();
    } catch (RuntimeException e) {
      log.error("shutdown: the delegate's shutdown threw", e);
      delegateShutdown = CompletableResultCode.ofFailure();
    }
    boolean bufferOk = ok;
    CompletableResultCode d = delegateShutdown;
    d.whenComplete(() -> complete(shutdownResult, bufferOk && d.isSuccess()));
  }

  private boolean sealMemory(String why) {
    try {
      buffer.sealMemory();
      return true;
    } catch (IOException | RuntimeException e) {
      log.error("{}: batches held in memory could not be sealed to disk: {}", why, e.getMessage());
      return false;
    }
  }

  /** {@code shutdown().join(...)}, waiting as long as shutdown can take. */
  void close() {
    long nanos = exportTimeoutNanos * 2 + shutdownDrainTimeout.toNanos() + TimeUnit.SECONDS.toNanos(15);
    shutdown().join(nanos, TimeUnit.NANOSECONDS);
  }

  private static void complete(CompletableResultCode r, boolean ok) {
    if (ok) {
      r.succeed();
    } else {
      r.fail();
    }
  }

  // ------------------------------------------------------------------ for tests

  /** The buffer's metrics, or null once shutdown has closed it. */
  BufferMetrics bufferMetrics() {
    return shutdownResult.isDone() ? null : buffer.metrics();
  }

  /** Items accepted and refused by {@link #export} since start. */
  long[] acceptedAndRefused() {
    return new long[] {acceptedItems.get(), refusedItems.get()};
  }

  /** Batches whose SDK items are still held for export. */
  int originalsHeld() {
    return originals.size();
  }

  Drain drain() {
    return drain;
  }
}
