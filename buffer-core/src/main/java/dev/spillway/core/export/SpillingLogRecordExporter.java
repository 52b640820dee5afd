package dev.spillway.core.export;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.SpillBufferBuilder;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import java.io.IOException;
import java.util.Collection;
import org.slf4j.LoggerFactory;

/**
 * A {@link LogRecordExporter} that wraps another one (for example {@code
 * OtlpGrpcLogRecordExporter}) and puts an encrypted spill buffer in front of it: the log twin of
 * {@link SpillingSpanExporter}, with the same contract.
 *
 * <p>{@link #export} writes the records to an OTLP {@code ExportLogsServiceRequest} and offers it
 * to the buffer (payload type {@code OTLP_LOGS}); it succeeds once the buffer took it and never
 * waits on the delegate, which a {@code BatchLogRecordProcessor} would otherwise queue behind. One
 * thread, {@value #THREAD_NAME}, replays the buffer to the delegate oldest first, backing off while
 * it fails; records read back from disk reach the delegate as {@code LogRecordData} decoded from
 * the OTLP bytes (see {@code OtlpLogs} for the little OTLP cannot carry). {@link #flush()}
 * completes when everything accepted is exported or sealed on disk. {@link #shutdown()} seals
 * memory to disk before it returns, then replays for up to the shutdown drain timeout in the
 * background and shuts the delegate down.
 */
public final class SpillingLogRecordExporter implements LogRecordExporter {
  /** The name of the drain thread this exporter starts. */
  public static final String THREAD_NAME = "spillway-log-replay";

  private final LogRecordExporter delegate;
  private final BufferedDelegate<LogRecordData> buffered;

  private SpillingLogRecordExporter(LogRecordExporter delegate, BufferedDelegate<LogRecordData> buffered) {
    this.delegate = delegate;
    this.buffered = buffered;
  }

  /**
   * A builder wrapping {@code delegate}, with a spill buffer built from {@code buffer} (which
   * needs its own directory, writer keys and reader keys). The exporter owns the buffer: it opens
   * it and closes it on {@link #shutdown()}; do not change {@code buffer} afterwards.
   */
  public static SpillingLogRecordExporterBuilder builder(
      LogRecordExporter delegate, SpillBufferBuilder buffer) {
    return new SpillingLogRecordExporterBuilder(delegate, buffer);
  }

  static SpillingLogRecordExporter start(
      LogRecordExporter delegate, SpillBufferBuilder buffer, ReplaySettings settings) throws IOException {
    BufferedDelegate.Delegate<LogRecordData> calls =
        new BufferedDelegate.Delegate<>(
            delegate.getClass().getSimpleName(), delegate::export, delegate::flush, delegate::shutdown);
    return new SpillingLogRecordExporter(
        delegate,
        BufferedDelegate.start(
            SignalCodec.logs(), calls, buffer, settings, true, THREAD_NAME,
            LoggerFactory.getLogger(SpillingLogRecordExporter.class)));
  }

  /**
   * Writes {@code logs} to OTLP bytes and offers them to the spill buffer; succeeds once the
   * buffer took them, fails when it refused them (budgets spent) or after {@link #shutdown()}.
   * Never waits on the delegate.
   */
  @Override
  public CompletableResultCode export(Collection<LogRecordData> logs) {
    return buffered.export(logs);
  }

  /**
   * Completes when every batch accepted before this call is exported or sealed on disk, and the
   * delegate's own flush completed. After {@link #shutdown()}, returns the shutdown's result.
   */
  @Override
  public CompletableResultCode flush() {
    return buffered.flush();
  }

  /**
   * Stops accepting and seals what memory holds to disk before returning; then, in the
   * background, replays for up to the shutdown drain timeout, closes the buffer and shuts the
   * delegate down. Idempotent.
   */
  @Override
  public CompletableResultCode shutdown() {
    return buffered.shutdown();
  }

  /** {@code shutdown().join(...)}, waiting as long as shutdown can take. */
  @Override
  public void close() {
    buffered.close();
  }

  /** The buffer's metrics, or null once shutdown has closed it. For tests. */
  BufferMetrics bufferMetrics() {
    return buffered.bufferMetrics();
  }

  /** Log records accepted and refused by {@link #export} since start. For tests. */
  long[] acceptedAndRefusedRecords() {
    return buffered.acceptedAndRefused();
  }

  @Override
  public String toString() {
    return "SpillingLogRecordExporter{delegate=" + delegate + "}";
  }
}
