package dev.spillway.core.export;

import dev.spillway.core.SpillBufferBuilder;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import java.io.IOException;
import org.slf4j.LoggerFactory;

/**
 * A {@link MetricExporter} that wraps another one (for example {@code OtlpGrpcMetricExporter}) and
 * puts an encrypted spill buffer in front of it: the metric twin of {@link SpillingSpanExporter},
 * with the same contract.
 *
 * <p><b>The delegate decides how metrics are collected.</b> {@link #getAggregationTemporality},
 * {@link #getDefaultAggregation} and {@link #getMemoryMode} answer what the delegate answers, so a
 * reader collects exactly as it would for the delegate alone, and a replayed batch carries the
 * temporality it was collected with (OTLP records it per metric).
 *
 * <p><b>Serialised before export returns.</b> {@link #export} writes the metrics to an OTLP {@code
 * ExportMetricsServiceRequest} before it returns and offers it to the buffer (payload type {@code
 * OTLP_METRICS}), so the SDK may reuse its {@code MetricData} afterwards, as it does in {@link
 * MemoryMode#REUSABLE_DATA}. In that mode the exporter keeps no reference to the SDK's objects:
 * every batch reaches the delegate decoded from its bytes. In {@link MemoryMode#IMMUTABLE_DATA}
 * batches still in memory are handed over as the SDK made them.
 *
 * <p>Accepting never waits on the delegate; one thread, {@value #THREAD_NAME}, replays oldest first
 * and backs off while the delegate fails; {@link #flush()} completes when everything accepted is
 * exported or sealed on disk; {@link #shutdown()} seals memory to disk before it returns, then
 * replays for up to the shutdown drain timeout in the background and shuts the delegate down.
 * Accepted and refused items are counted in data points.
 */
public final class SpillingMetricExporter extends SpillingExporter<MetricData> implements MetricExporter {
  /** The name of the drain thread this exporter starts. */
  public static final String THREAD_NAME = "spillway-metric-replay";

  private final MetricExporter delegate;

  private SpillingMetricExporter(MetricExporter delegate, BufferedDelegate<MetricData> buffered) {
    super(delegate, buffered);
    this.delegate = delegate;
  }

  /**
   * A builder wrapping {@code delegate}, with a spill buffer built from {@code buffer} (which
   * needs its own directory, writer keys and reader keys). The exporter owns the buffer: it opens
   * it and closes it on {@link #shutdown()}; do not change {@code buffer} afterwards.
   */
  public static SpillingMetricExporterBuilder builder(MetricExporter delegate, SpillBufferBuilder buffer) {
    return new SpillingMetricExporterBuilder(delegate, buffer);
  }

  static SpillingMetricExporter start(MetricExporter delegate, SpillBufferBuilder buffer, ReplaySettings settings)
      throws IOException {
    BufferedDelegate.Delegate<MetricData> calls =
        new BufferedDelegate.Delegate<>(
            delegate.getClass().getSimpleName(), delegate::export, delegate::flush, delegate::shutdown);
    // Reusable data: the SDK overwrites the points once export returns, so keep none of them.
    boolean keepOriginals = delegate.getMemoryMode() != MemoryMode.REUSABLE_DATA;
    return new SpillingMetricExporter(
        delegate,
        BufferedDelegate.start(
            SignalCodec.metrics(), calls, buffer, settings, keepOriginals, THREAD_NAME,
            LoggerFactory.getLogger(SpillingMetricExporter.class)));
  }

  /** The delegate's temporality for {@code instrumentType}. */
  @Override
  public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
    return delegate.getAggregationTemporality(instrumentType);
  }

  /** The delegate's default aggregation for {@code instrumentType}. */
  @Override
  public Aggregation getDefaultAggregation(InstrumentType instrumentType) {
    return delegate.getDefaultAggregation(instrumentType);
  }

  /** The delegate's memory mode. */
  @Override
  public MemoryMode getMemoryMode() {
    return delegate.getMemoryMode();
  }
}
