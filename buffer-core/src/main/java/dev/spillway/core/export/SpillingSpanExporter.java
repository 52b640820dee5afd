package dev.spillway.core.export;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.spillway.core.BufferMetrics;
import dev.spillway.core.Delivery;
import dev.spillway.core.OfferResult;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.drain.Drain;
import dev.spillway.core.drain.ExportOutcome;
import dev.spillway.core.drain.RetryPolicy;
import dev.spillway.core.export.internal.OtlpSpans;
import dev.spillway.core.export.internal.ThrottledLog;
import dev.spillway.core.seal.PayloadType;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SpanExporter} that wraps another one (for example {@code OtlpGrpcSpanExporter}) and
 * puts an encrypted {@link SpillBuffer} in front of it.
 *
 * <p><b>Accepting never waits on the delegate.</b> {@link #export} serializes the batch to an
 * OTLP {@code ExportTraceServiceRequest} and offers it to the buffer, which keeps it in memory
 * under its memory limit and seals it to disk over it (in {@code durable} mode, always to disk).
 * It returns success as soon as the buffer took the batch, and failure only when the buffer
 * refused it (memory and disk budgets both spent, no data key, storage fault): only then does the
 * SDK drop the spans. A delegate that is down, or blocks in its own retries, never holds up
 * accepting, so a {@code BatchSpanProcessor} never fills up behind it.
 *
 * <p><b>Delivery.</b> One background thread, {@value #THREAD_NAME}, runs the core {@link Drain}:
 * it takes batches from the buffer oldest first, hands them to the delegate (waiting at most the
 * export timeout), acknowledges what the delegate took and, while it fails, leaves the batch in the
 * buffer and backs off exponentially with jitter. Batches reach the delegate in the order {@code
 * export} was called, across outages and restarts, for one caller at a time (as {@code
 * BatchSpanProcessor} calls). Delivery is at-least-once: a delegate that answers after the export
 * timeout has still sent its copy, and a batch replayed just before a crash is replayed again.
 * Batches still in memory are exported from the {@link SpanData} the SDK handed over, not parsed
 * back.
 *
 * <p><b>{@link #flush()}</b> completes when every batch accepted so far is exported or sealed on
 * disk (memory is sealed, {@link SpillBuffer#sealMemory()}) and the delegate's flush completed.
 *
 * <p><b>{@link #shutdown()}</b> stops accepting (later exports fail) and seals what memory holds to
 * disk before it returns, so a JVM that exits right after an SDK {@code close()} (10 s) loses
 * nothing accepted, whatever the delegate is doing. Then, in the background, it keeps replaying to
 * the delegate for up to the shutdown drain timeout while the delegate accepts, closes the buffer
 * and shuts the delegate down; the returned result completes then. What was not replayed is
 * replayed by the next start on the same directory.
 */
public final class SpillingSpanExporter implements SpanExporter {
  /** The name of the drain thread this exporter starts. */
  public static final String THREAD_NAME = "spillway-span-replay";

  private static final Logger LOG = LoggerFactory.getLogger(SpillingSpanExporter.class);
  /** Most a poll waits before the drain looks at its stop flags. */
  private static final Duration POLL_INTERVAL = Duration.ofMillis(500);

  private final SpanExporter delegate;
  /** For log lines: an exporter's toString can be long. */
  private final String delegateName;
  private final SpillBuffer buffer;
  private final Drain drain;
  private final OriginalSpans originals;
  private final long exportTimeoutNanos;
  private final Duration shutdownDrainTimeout;
  private final List<AutoCloseable> closeAfterBuffer;
  private final AtomicBoolean isShutdown = new AtomicBoolean();
  private final CompletableResultCode shutdownResult = new CompletableResultCode();
  private final ThrottledLog refuseLog = new ThrottledLog(LOG, 1, TimeUnit.MINUTES);
  private final ThrottledLog replayLog = new ThrottledLog(LOG, 1, TimeUnit.MINUTES);
  private final AtomicLong acceptedSpans = new AtomicLong();
  private final AtomicLong refusedSpans = new AtomicLong();

  private SpillingSpanExporter(SpillingSpanExporterBuilder b, SpillBuffer buffer) {
    this.delegate = b.delegate;
    this.delegateName = b.delegate.getClass().getSimpleName();
    this.buffer = buffer;
    this.exportTimeoutNanos = b.exportTimeout.toNanos();
    this.shutdownDrainTimeout = b.shutdownDrainTimeout;
    this.closeAfterBuffer = List.copyOf(b.closeAfterBuffer);
    this.originals = new OriginalSpans(OriginalSpans.DEFAULT_MAX_PAYLOAD_BYTES);
    this.drain =
        Drain.builder(buffer, (d, timeout) -> replay(d))
            .retry(new RetryPolicy(true, b.backoffInitial, b.backoffMax, Duration.ZERO))
            .exportTimeout(b.exportTimeout)
            .pollInterval(POLL_INTERVAL)
            .threadName(THREAD_NAME)
            .build();
  }

  /**
   * A builder wrapping {@code delegate}, with a spill buffer built from {@code buffer} (which
   * needs a directory, writer keys and reader keys). The exporter owns the buffer: it opens it and
   * closes it on {@link #shutdown()}; do not change {@code buffer} afterwards.
   */
  public static SpillingSpanExporterBuilder builder(SpanExporter delegate, dev.spillway.core.SpillBufferBuilder buffer) {
    return new SpillingSpanExporterBuilder(delegate, buffer);
  }

  static SpillingSpanExporter start(SpillingSpanExporterBuilder b) throws IOException {
    SpillBuffer buffer = b.buffer.build();
    SpillingSpanExporter exporter = new SpillingSpanExporter(b, buffer);
    exporter.drain.start();
    return exporter;
  }

  // ------------------------------------------------------------------ export

  @Override
  public CompletableResultCode export(Collection<SpanData> spans) {
    if (isShutdown.get()) {
      return CompletableResultCode.ofFailure();
    }
    if (spans.isEmpty()) {
      return CompletableResultCode.ofSuccess();
    }
    byte[] payload = OtlpSpans.toBytes(spans);
    // The processor reuses its list once this returns: keep a copy of the references.
    List<SpanData> copy = new ArrayList<>(spans);
    originals.put(payload, copy);
    OfferResult r;
    try {
      r = buffer.offer(PayloadType.OTLP_TRACES, payload);
    } catch (RuntimeException e) {
      r = new OfferResult(OfferResult.Outcome.REFUSED, e.toString());
    }
    if (!r.accepted()) {
      originals.remove(payload);
      refusedSpans.addAndGet(spans.size());
      refuseLog.warn("spill buffer refused {} spans: {}", spans.size(), r.reason());
      return CompletableResultCode.ofFailure();
    }
    acceptedSpans.addAndGet(spans.size());
    return CompletableResultCode.ofSuccess();
  }

  /** One attempt on the delegate, for the drain. */
  private ExportOutcome replay(Delivery d) {
    if (d.payloadType() != PayloadType.OTLP_TRACES) {
      replayLog.warn("dropping a spilled {} batch: this exporter replays traces only", d.payloadType());
      return ExportOutcome.permanent("not a trace batch");
    }
    Collection<SpanData> spans = originals.get(d.payload());
    if (spans == null) {
      try {
        spans = OtlpSpans.fromRequest(ExportTraceServiceRequest.parseFrom(d.payload()));
      } catch (InvalidProtocolBufferException e) {
        replayLog.warn("dropping a spilled batch that is not an OTLP trace request: {}", e.getMessage());
        return ExportOutcome.permanent("not an OTLP trace request");
      }
    }
    CompletableResultCode r;
    try {
      r = delegate.export(spans);
    } catch (RuntimeException e) {
      LOG.debug("delegate export threw", e);
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
    replayLog.warn("delegate {} {}: batches stay in the spill buffer until it recovers", delegateName, why);
    return ExportOutcome.retryable("delegate " + why);
  }

  // ------------------------------------------------------------------ flush and shutdown

  /**
   * Completes when every batch accepted before this call is exported or sealed on disk, and the
   * delegate's own flush completed. Fails if batches held in memory could not be sealed. After
   * {@link #shutdown()}, returns the shutdown's result.
   */
  @Override
  public CompletableResultCode flush() {
    if (isShutdown.get()) {
      return shutdownResult;
    }
    boolean sealed = sealMemory("flush");
    CompletableResultCode result = new CompletableResultCode();
    CompletableResultCode delegateFlush = delegate.flush();
    delegateFlush.whenComplete(() -> complete(result, sealed && delegateFlush.isSuccess()));
    return result;
  }

  /**
   * Stops accepting and seals what memory holds to disk before returning; then, in the
   * background, replays for up to the shutdown drain timeout, closes the buffer and shuts the
   * delegate down. Idempotent: later calls return the first call's result, which succeeds when
   * the delegate's shutdown does and nothing accepted was left unsealed.
   */
  @Override
  public CompletableResultCode shutdown() {
    if (!isShutdown.compareAndSet(false, true)) {
      return shutdownResult;
    }
    // First, whatever the delegate is doing: on disk, nothing accepted depends on this JVM.
    boolean sealed = sealMemory("shutdown");
    Thread finisher = new Thread(() -> finishShutdown(sealed), THREAD_NAME + "-shutdown");
    finisher.setDaemon(true);
    finisher.start();
    return shutdownResult;
  }

  private void finishShutdown(boolean sealed) {
    boolean ok = sealed;
    try {
      boolean caughtUp = drain.finish(shutdownDrainTimeout);
      if (!caughtUp) {
        LOG.info("shutdown: the spill backlog stays sealed on disk for the next start");
      }
    } catch (RuntimeException e) {
      LOG.error("shutdown: the final replay failed; the rest stays sealed", e);
    }
    try {
      buffer.close(); // seals anything still in memory
    } catch (RuntimeException e) {
      ok = false;
      LOG.error("shutdown: closing the spill buffer failed", e);
    }
    for (AutoCloseable c : closeAfterBuffer) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("shutdown: closing {} failed: {}", c, e.toString());
      }
    }
    CompletableResultCode delegateShutdown;
    try {
      delegateShutdown = delegate.shutdown();
    } catch (RuntimeException e) {
      LOG.error("shutdown: the delegate's shutdown threw", e);
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
      LOG.error("{}: batches held in memory could not be sealed to disk: {}", why, e.getMessage());
      return false;
    }
  }

  /** {@code shutdown().join(...)}, waiting as long as shutdown can take. */
  @Override
  public void close() {
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

  /** The buffer's metrics, or null once shutdown has closed it. For tests. */
  BufferMetrics bufferMetrics() {
    return shutdownResult.isDone() ? null : buffer.metrics();
  }

  /** Spans accepted and refused by {@link #export} since start. For tests. */
  long[] acceptedAndRefusedSpans() {
    return new long[] {acceptedSpans.get(), refusedSpans.get()};
  }

  /** Batches whose SDK spans are still held for export. For tests. */
  int originalsHeld() {
    return originals.size();
  }

  /** The drain, for tests. */
  Drain drain() {
    return drain;
  }

  @Override
  public String toString() {
    return "SpillingSpanExporter{delegate=" + delegate + "}";
  }
}
