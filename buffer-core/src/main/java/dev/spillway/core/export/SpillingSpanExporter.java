package dev.spillway.core.export;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.spillway.core.BufferMetrics;
import dev.spillway.core.Delivery;
import dev.spillway.core.OfferResult;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.export.internal.OtlpSpans;
import dev.spillway.core.export.internal.ThrottledLog;
import dev.spillway.core.seal.PayloadType;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SpanExporter} that wraps another one (for example {@code OtlpGrpcSpanExporter}) and
 * puts an encrypted {@link SpillBuffer} behind it.
 *
 * <p><b>Healthy delegate.</b> Each batch goes straight to the delegate; the buffer is not touched
 * and nothing reaches the disk.
 *
 * <p><b>Delegate failing or too slow.</b> When the delegate fails a batch or has not answered
 * within the export timeout, the batch is serialized to an OTLP {@code ExportTraceServiceRequest}
 * and offered to the buffer, which keeps it in memory under its memory limit and seals it to disk
 * over it. From then on every new batch queues behind it, and one background thread replays the
 * backlog oldest first, with exponential backoff while the delegate keeps failing. When the buffer
 * is empty again, batches go straight to the delegate once more. {@link #export} returns success
 * once the delegate exported the batch or the buffer accepted it, and failure when the buffer
 * refused it (disk budget spent, no data key) or {@value #MAX_HELD_BACK_BYTES} bytes already wait
 * to enter it: only then does the SDK drop the spans.
 *
 * <p><b>Ordering.</b> Batches reach the delegate in the order {@code export} was called, across
 * outages and restarts, for one caller at a time (as {@code BatchSpanProcessor} calls). Batches
 * exported concurrently from several threads have no order among them. One exception: a spill
 * left by an earlier run that cannot be read at start (the key provider is down) is replayed when
 * it can be, after batches that went straight to the delegate meanwhile. To keep order, offers
 * made while the replay thread may hold a batch from the buffer's memory tier wait in this
 * exporter (bounded, {@value #MAX_HELD_BACK_BYTES} bytes) and enter the buffer right after; and a
 * memory-tier batch the delegate fails is sealed to disk at once, with the rest of memory, ahead
 * of them (the buffer would otherwise seal it behind newer spilled batches at close).
 *
 * <p><b>Delivery is at-least-once.</b> A delegate that answers after the export timeout has still
 * sent its copy; a batch replayed just before a crash is replayed again after the restart.
 *
 * <p><b>{@link #flush()}</b> completes when every batch accepted so far is exported or sealed on
 * disk: batches the buffer holds in memory are sealed ({@link SpillBuffer#sealMemory()}).
 * <b>{@link #shutdown()}</b> stops accepting
 * (later exports fail), lets exports in progress finish, replays the backlog for up to the
 * shutdown drain timeout while the delegate accepts it, seals everything else to disk for the next
 * start, closes the buffer and then shuts the delegate down. It never loses an accepted span.
 *
 * <p><b>Threads.</b> One daemon thread, {@value #THREAD_NAME}, owns the buffer's read side:
 * replay, flushes and shutdown run on it. {@code export} blocks its caller for at most the export
 * timeout plus the time to seal the batch. docs/EMBEDDING.md lists what else embedding costs.
 */
public final class SpillingSpanExporter implements SpanExporter {
  /** The name of the one background thread this exporter starts. */
  public static final String THREAD_NAME = "spillway-span-replay";

  private static final Logger LOG = LoggerFactory.getLogger(SpillingSpanExporter.class);
  /** How long the replay thread waits on the buffer before looking at flushes and shutdown. */
  private static final Duration POLL_INTERVAL = Duration.ofMillis(100);
  /** Extra time shutdown gives exports still in progress, beyond the export timeout. */
  private static final long IN_FLIGHT_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);
  /** Most serialized bytes held back while a replay is in flight; beyond it exports fail. */
  static final long MAX_HELD_BACK_BYTES = 16L << 20;

  private final SpanExporter delegate;
  /** For log lines: an exporter's toString can be long. */
  private final String delegateName;
  private final SpillBufferBuilder bufferConfig;
  private final long exportTimeoutNanos;
  private final long backoffInitialNanos;
  private final long backoffMaxNanos;
  private final long shutdownDrainNanos;
  private final List<AutoCloseable> closeAfterBuffer;
  private final AtomicBoolean isShutdown = new AtomicBoolean();
  private final CompletableResultCode shutdownResult = new CompletableResultCode();
  private final Thread replayThread;
  private final ThrottledLog spillLog = new ThrottledLog(LOG, 1, TimeUnit.MINUTES);
  private final ThrottledLog refuseLog = new ThrottledLog(LOG, 1, TimeUnit.MINUTES);
  private final ThrottledLog replayLog = new ThrottledLog(LOG, 1, TimeUnit.MINUTES);

  /**
   * Guards the fields below. Held across an offer, so that the backlog flag, the count of offers
   * and the swap of the buffer on flush change together.
   */
  private final ReentrantLock lock = new ReentrantLock();
  /** Signalled on a new offer, flush request, shutdown, or an export finishing. */
  private final Condition changed = lock.newCondition();
  /** Null only after a flush could not reopen it, and after shutdown. Written by the replay thread. */
  private SpillBuffer buffer;
  /** Whether the buffer may hold batches: new batches then queue behind them. */
  private boolean backlog;
  private long offers;
  private int exportsInFlight;
  private boolean shutdownRequested;
  private final List<CompletableResultCode> flushRequests = new ArrayList<>();
  /** System.nanoTime before which the replay thread does not try the delegate. */
  private long replayNotBefore;
  /**
   * Set while the replay thread may hold a batch from the buffer's memory tier. Offers wait in
   * {@link #heldBack} meanwhile: were one spilled to disk, the buffer would seal the held batch
   * (on flush or shutdown) behind it, out of order.
   */
  private boolean holdBackOffers;
  /** Accepted batches not yet offered, oldest first; offered by the replay thread. */
  private final ArrayDeque<byte[]> heldBack = new ArrayDeque<>();
  private long heldBackBytes;

  // --- replay thread only ---
  private long backoffNanos;

  private SpillingSpanExporter(SpillingSpanExporterBuilder b, SpillBuffer buffer, boolean backlog) {
    this.delegate = b.delegate;
    this.delegateName = b.delegate.getClass().getSimpleName();
    this.bufferConfig = b.buffer;
    this.exportTimeoutNanos = b.exportTimeout.toNanos();
    this.backoffInitialNanos = b.backoffInitial.toNanos();
    this.backoffMaxNanos = b.backoffMax.toNanos();
    this.shutdownDrainNanos = b.shutdownDrainTimeout.toNanos();
    this.closeAfterBuffer = List.copyOf(b.closeAfterBuffer);
    this.buffer = buffer;
    this.backlog = backlog;
    this.replayNotBefore = System.nanoTime();
    this.replayThread = new Thread(this::replayLoop, THREAD_NAME);
    replayThread.setDaemon(true);
  }

  /**
   * A builder wrapping {@code delegate}, with a spill buffer built from {@code buffer} (which
   * needs a directory, writer keys and reader keys). The exporter owns the buffer: it opens it,
   * reopens it on {@link #flush()}, and closes it on {@link #shutdown()}; do not change {@code
   * buffer} afterwards.
   */
  public static SpillingSpanExporterBuilder builder(SpanExporter delegate, SpillBufferBuilder buffer) {
    return new SpillingSpanExporterBuilder(delegate, buffer);
  }

  static SpillingSpanExporter start(SpillingSpanExporterBuilder b) throws IOException {
    SpillBuffer buffer = b.buffer.build();
    boolean backlog;
    try {
      // A spill left by an earlier run is older than anything exported now.
      Delivery left = buffer.poll(Duration.ZERO);
      backlog = left != null;
      if (left != null) {
        left.release();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      backlog = true;
    } catch (RuntimeException e) {
      buffer.close();
      throw e;
    }
    SpillingSpanExporter exporter = new SpillingSpanExporter(b, buffer, backlog);
    exporter.replayThread.start();
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
    boolean queueBehind;
    lock.lock();
    try {
      if (shutdownRequested) {
        return CompletableResultCode.ofFailure();
      }
      exportsInFlight++;
      queueBehind = backlog;
    } finally {
      lock.unlock();
    }
    try {
      if (!queueBehind) {
        if (exportNow(spans)) {
          return CompletableResultCode.ofSuccess();
        }
        spillLog.warn(
            "delegate {} failed or did not answer within {} ms: spilling batches until it recovers",
            delegateName, TimeUnit.NANOSECONDS.toMillis(exportTimeoutNanos));
      }
      return spill(spans, !queueBehind);
    } finally {
      lock.lock();
      try {
        exportsInFlight--;
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  /** One export on the delegate, waiting at most the export timeout. */
  private boolean exportNow(Collection<SpanData> spans) {
    try {
      CompletableResultCode r = delegate.export(spans);
      r.join(exportTimeoutNanos, TimeUnit.NANOSECONDS);
      return r.isSuccess();
    } catch (RuntimeException e) {
      LOG.debug("delegate export threw", e);
      return false;
    }
  }

  private CompletableResultCode spill(Collection<SpanData> spans, boolean afterFailure) {
    byte[] payload = OtlpSpans.toBytes(spans);
    lock.lock();
    try {
      if (holdBackOffers || !heldBack.isEmpty()) {
        if (heldBackBytes + payload.length > MAX_HELD_BACK_BYTES) {
          refuseLog.warn("{} spans not accepted: {} bytes wait to enter the spill buffer", spans.size(), heldBackBytes);
          return CompletableResultCode.ofFailure();
        }
        heldBack.addLast(payload);
        heldBackBytes += payload.length;
      } else {
        if (buffer == null) {
          refuseLog.warn("spill buffer unavailable: {} spans not accepted", spans.size());
          return CompletableResultCode.ofFailure();
        }
        OfferResult r = buffer.offer(PayloadType.OTLP_TRACES, payload);
        if (!r.accepted()) {
          refuseLog.warn("spill buffer refused {} spans: {}", spans.size(), r.reason());
          return CompletableResultCode.ofFailure();
        }
      }
      offers++;
      backlog = true;
      if (afterFailure) {
        // The delegate just failed: give it the first backoff before replaying to it.
        long notBefore = System.nanoTime() + backoffInitialNanos;
        if (notBefore - replayNotBefore > 0) {
          replayNotBefore = notBefore;
        }
      }
      changed.signalAll();
      return CompletableResultCode.ofSuccess();
    } finally {
      lock.unlock();
    }
  }

  // ------------------------------------------------------------------ flush and shutdown

  /**
   * Completes when every batch accepted before this call is exported or sealed on disk, and the
   * delegate's own flush completed. Fails if batches held in memory could not be sealed. After
   * {@link #shutdown()}, returns the shutdown's result.
   */
  @Override
  public CompletableResultCode flush() {
    CompletableResultCode r = new CompletableResultCode();
    lock.lock();
    try {
      if (shutdownRequested) {
        return shutdownResult;
      }
      flushRequests.add(r);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    return r;
  }

  /**
   * Stops accepting, replays or seals everything, closes the buffer, then shuts the delegate down.
   * Idempotent: later calls return the first call's result, which succeeds when the delegate's
   * shutdown does and nothing accepted was left unsealed.
   */
  @Override
  public CompletableResultCode shutdown() {
    if (!isShutdown.compareAndSet(false, true)) {
      return shutdownResult;
    }
    lock.lock();
    try {
      shutdownRequested = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    return shutdownResult;
  }

  /** {@code shutdown().join(...)}, waiting as long as shutdown can take. */
  @Override
  public void close() {
    long nanos =
        exportTimeoutNanos * 2 + IN_FLIGHT_GRACE_NANOS + shutdownDrainNanos + TimeUnit.SECONDS.toNanos(10);
    shutdown().join(nanos, TimeUnit.NANOSECONDS);
  }

  /** The buffer's metrics (counters since it was last opened), or null after shutdown. */
  BufferMetrics bufferMetrics() {
    lock.lock();
    try {
      return buffer == null ? null : buffer.metrics();
    } finally {
      lock.unlock();
    }
  }

  /** Waits until batches go straight to the delegate again; returns whether they do. For tests. */
  boolean awaitNoBacklog(Duration timeout) throws InterruptedException {
    lock.lock();
    try {
      long remaining = timeout.toNanos();
      while (backlog && remaining > 0) {
        remaining = changed.awaitNanos(remaining);
      }
      return !backlog;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    return "SpillingSpanExporter{delegate=" + delegate + "}";
  }

  // ------------------------------------------------------------------ replay thread

  private void replayLoop() {
    while (true) {
      try {
        if (shutdownWasRequested()) {
          finishShutdown();
          return;
        }
        serveFlushes();
        if (buffer == null) {
          reopen();
          continue;
        }
        long wait = notBefore() - System.nanoTime();
        if (wait > 0) {
          awaitWork(wait);
          continue;
        }
        long offersBefore = holdBackOffers();
        Delivery d;
        try {
          d = buffer.poll(POLL_INTERVAL);
        } catch (InterruptedException | RuntimeException e) {
          offerHeldBack();
          throw e;
        }
        if (d == null || d.fromDisk()) {
          offerHeldBack(); // a disk record keeps its place whatever is appended behind it
        }
        if (d == null) {
          maybeClearBacklog(offersBefore);
          continue;
        }
        markBacklog();
        boolean exported = replay(d);
        if (!d.fromDisk()) {
          if (!exported) {
            // The delegate is down and this batch came from memory: seal it and the rest of memory
            // now, in order, before the offers held back meanwhile go in behind them.
            sealMemory();
          }
          offerHeldBack();
        }
      } catch (InterruptedException e) {
        LOG.warn("{} was interrupted; it keeps running until shutdown()", THREAD_NAME);
      } catch (RuntimeException e) {
        LOG.error("replay failed unexpectedly; retrying after the backoff", e);
        awaitWorkQuietly(backoffInitialNanos);
      }
    }
  }

  /** Replays one batch: acknowledges it when the delegate took it, releases it (to retry) if not. */
  private boolean replay(Delivery d) {
    if (d.payloadType() != PayloadType.OTLP_TRACES) {
      replayLog.warn("dropping a spilled {} batch: this exporter replays traces only", d.payloadType());
      d.ack();
      return true;
    }
    List<SpanData> spans;
    try {
      spans = OtlpSpans.fromRequest(ExportTraceServiceRequest.parseFrom(d.payload()));
    } catch (InvalidProtocolBufferException e) {
      replayLog.warn("dropping a spilled batch that is not an OTLP trace request: {}", e.getMessage());
      d.ack();
      return true;
    }
    if (exportNow(spans)) {
      d.ack();
      backoffNanos = 0;
      return true;
    }
    d.release();
    backoffNanos = backoffNanos == 0 ? backoffInitialNanos : Math.min(backoffMaxNanos, backoffNanos * 2);
    long jitter = ThreadLocalRandom.current().nextLong(backoffNanos / 5 + 1);
    lock.lock();
    try {
      replayNotBefore = System.nanoTime() + backoffNanos - jitter;
    } finally {
      lock.unlock();
    }
    replayLog.warn(
        "replay to {} failed; next attempt in {} ms", delegateName, TimeUnit.NANOSECONDS.toMillis(backoffNanos - jitter));
    return false;
  }

  private void serveFlushes() {
    List<CompletableResultCode> requests;
    lock.lock();
    try {
      if (flushRequests.isEmpty()) {
        return;
      }
      requests = new ArrayList<>(flushRequests);
      flushRequests.clear();
    } finally {
      lock.unlock();
    }
    boolean sealed = offerHeldBack();
    if (buffer != null && buffer.metrics().memoryBatches() > 0) {
      sealed &= sealMemory();
    }
    CompletableResultCode delegateFlush = delegate.flush();
    boolean ok = sealed;
    delegateFlush.whenComplete(
        () -> {
          for (CompletableResultCode r : requests) {
            if (ok && delegateFlush.isSuccess()) {
              r.succeed();
            } else {
              r.fail();
            }
          }
        });
  }

  /**
   * Seals what the buffer holds in memory to disk ({@link SpillBuffer#sealMemory()}): no new
   * segment, no new data-key epoch, counters kept. Runs between deliveries.
   */
  private boolean sealMemory() {
    lock.lock();
    try {
      buffer.sealMemory();
      return true;
    } catch (IOException | RuntimeException e) {
      LOG.error("batches held in memory could not be sealed to disk: {}", e.getMessage());
      return false;
    } finally {
      lock.unlock();
    }
  }

  private void reopen() {
    lock.lock();
    try {
      buffer = bufferConfig.build();
      LOG.info("the spill buffer is open again");
      return;
    } catch (IOException | RuntimeException e) {
      replayLog.warn("the spill buffer cannot be reopened yet: {}", e.getMessage());
    } finally {
      lock.unlock();
    }
    awaitWorkQuietly(backoffMaxNanos);
  }

  private void finishShutdown() {
    try {
      awaitExportsInFlight(System.nanoTime() + exportTimeoutNanos + IN_FLIGHT_GRACE_NANOS);
      // No backoff now: there is no later. One failure and the rest is sealed.
      boolean delegateHealthy = true;
      long drainDeadline = System.nanoTime() + shutdownDrainNanos;
      // Exports are over, so nothing is offered behind a batch taken from memory here; what
      // fails is released and sealed by close() below in its order.
      offerHeldBack();
      while (buffer != null && delegateHealthy && System.nanoTime() - drainDeadline < 0) {
        Delivery d = buffer.poll(Duration.ZERO);
        if (d == null) {
          break;
        }
        delegateHealthy = replay(d);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.error("shutdown: replay failed; sealing the rest", e);
    }
    boolean allOffered = offerHeldBack();
    List<CompletableResultCode> requests;
    SpillBuffer b;
    lock.lock();
    try {
      if (!heldBack.isEmpty()) {
        LOG.error("shutdown: {} accepted batches could not enter the spill buffer and are lost", heldBack.size());
        heldBack.clear();
        heldBackBytes = 0;
      }
      b = buffer;
      buffer = null;
      requests = new ArrayList<>(flushRequests);
      flushRequests.clear();
    } finally {
      lock.unlock();
    }
    boolean sealed = allOffered;
    try {
      if (b != null) {
        b.close(); // seals what memory holds to disk, for the next start
      }
    } catch (RuntimeException e) {
      sealed = false;
      LOG.error("shutdown: closing the spill buffer failed", e);
    }
    for (AutoCloseable c : closeAfterBuffer) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("shutdown: closing {} failed: {}", c, e.toString());
      }
    }
    boolean ok = sealed;
    requests.forEach(r -> complete(r, ok));
    CompletableResultCode delegateShutdown;
    try {
      delegateShutdown = delegate.shutdown();
    } catch (RuntimeException e) {
      LOG.error("shutdown: the delegate's shutdown threw", e);
      delegateShutdown = CompletableResultCode.ofFailure();
    }
    CompletableResultCode d = delegateShutdown;
    d.whenComplete(() -> complete(shutdownResult, ok && d.isSuccess()));
  }

  private static void complete(CompletableResultCode r, boolean ok) {
    if (ok) {
      r.succeed();
    } else {
      r.fail();
    }
  }

  // ------------------------------------------------------------------ state under the lock

  private boolean shutdownWasRequested() {
    lock.lock();
    try {
      return shutdownRequested;
    } finally {
      lock.unlock();
    }
  }

  private long notBefore() {
    lock.lock();
    try {
      return replayNotBefore;
    } finally {
      lock.unlock();
    }
  }

  /** Starts holding offers back (see {@link #holdBackOffers}); returns the offer count. */
  private long holdBackOffers() {
    lock.lock();
    try {
      holdBackOffers = true;
      return offers;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops holding offers back and offers what was held, oldest first. Returns whether all went
   * in; what the buffer refuses stays held (in order, ahead of newer batches) and is tried again
   * after the next poll.
   */
  private boolean offerHeldBack() {
    lock.lock();
    try {
      holdBackOffers = false;
      while (!heldBack.isEmpty() && buffer != null) {
        byte[] payload = heldBack.peekFirst();
        OfferResult r = buffer.offer(PayloadType.OTLP_TRACES, payload);
        if (!r.accepted()) {
          refuseLog.warn("spill buffer refused a held batch, retrying later: {}", r.reason());
          return false;
        }
        heldBack.removeFirst();
        heldBackBytes -= payload.length;
      }
      changed.signalAll();
      return heldBack.isEmpty();
    } finally {
      lock.unlock();
    }
  }

  private void markBacklog() {
    lock.lock();
    try {
      backlog = true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The buffer had nothing to deliver: batches may go straight to the delegate again, unless a
   * batch was offered since the poll began or the buffer still counts one pending.
   */
  private void maybeClearBacklog(long offersBefore) {
    lock.lock();
    try {
      if (!backlog || offers != offersBefore || !heldBack.isEmpty()) {
        return;
      }
      BufferMetrics m = buffer.metrics();
      if (m.memoryBatches() == 0 && m.diskRecordsPending() == 0) {
        backlog = false;
        changed.signalAll();
        LOG.info("spill backlog replayed; exporting directly again");
      }
    } finally {
      lock.unlock();
    }
  }

  /** Waits until a flush or shutdown is requested, or {@code nanos} passed. */
  private void awaitWork(long nanos) throws InterruptedException {
    lock.lock();
    try {
      long remaining = nanos;
      while (remaining > 0 && !shutdownRequested && flushRequests.isEmpty()) {
        remaining = changed.awaitNanos(remaining);
      }
    } finally {
      lock.unlock();
    }
  }

  private void awaitWorkQuietly(long nanos) {
    try {
      awaitWork(nanos);
    } catch (InterruptedException e) {
      LOG.warn("{} was interrupted; it keeps running until shutdown()", THREAD_NAME);
    }
  }

  private void awaitExportsInFlight(long deadline) throws InterruptedException {
    lock.lock();
    try {
      long remaining = deadline - System.nanoTime();
      while (exportsInFlight > 0 && remaining > 0) {
        remaining = changed.awaitNanos(remaining);
      }
      if (exportsInFlight > 0) {
        LOG.warn("shutdown: {} exports still in progress are not waited for", exportsInFlight);
      }
    } finally {
      lock.unlock();
    }
  }
}
