package dev.spillway.core.export;

import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.drain.Drain;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
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
 *
 * <p>{@link SpillingLogRecordExporter} and {@link SpillingMetricExporter} do the same for the other
 * two signals; the three share {@link BufferedDelegate}.
 */
public final class SpillingSpanExporter extends SpillingExporter<SpanData> implements SpanExporter {
  /** The name of the drain thread this exporter starts. */
  public static final String THREAD_NAME = "spillway-span-replay";

  private SpillingSpanExporter(SpanExporter delegate, BufferedDelegate<SpanData> buffered) {
    super(delegate, buffered);
  }

  /**
   * A builder wrapping {@code delegate}, with a spill buffer built from {@code buffer} (which
   * needs a directory, writer keys and reader keys). The exporter owns the buffer: it opens it and
   * closes it on {@link #shutdown()}; do not change {@code buffer} afterwards.
   */
  public static SpillingSpanExporterBuilder builder(SpanExporter delegate, SpillBufferBuilder buffer) {
    return new SpillingSpanExporterBuilder(delegate, buffer);
  }

  static SpillingSpanExporter start(SpanExporter delegate, SpillBufferBuilder buffer, ReplaySettings settings)
      throws IOException {
    BufferedDelegate.Delegate<SpanData> calls =
        new BufferedDelegate.Delegate<>(
            delegate.getClass().getSimpleName(), delegate::export, delegate::flush, delegate::shutdown);
    return new SpillingSpanExporter(
        delegate,
        BufferedDelegate.start(
            SignalCodec.spans(), calls, buffer, settings, true, THREAD_NAME,
            LoggerFactory.getLogger(SpillingSpanExporter.class)));
  }
}
