package dev.spillway.core.export;

import dev.spillway.core.SpillBufferBuilder;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import java.io.IOException;
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
public final class SpillingLogRecordExporter extends SpillingExporter<LogRecordData> implements LogRecordExporter {
  /** The name of the drain thread this exporter starts. */
  public static final String THREAD_NAME = "spillway-log-replay";

  private SpillingLogRecordExporter(LogRecordExporter delegate, BufferedDelegate<LogRecordData> buffered) {
    super(delegate, buffered);
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
}
