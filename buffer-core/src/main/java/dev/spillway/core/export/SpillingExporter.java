package dev.spillway.core.export;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.drain.Drain;
import io.opentelemetry.sdk.common.CompletableResultCode;
import java.util.Collection;

/**
 * What the three spilling exporters share: each is this, over a {@link BufferedDelegate} for its
 * signal, plus the SDK interface of its signal ({@code SpanExporter}, {@code LogRecordExporter},
 * {@code MetricExporter}, whose {@code export}, {@code flush}, {@code shutdown} and {@code close}
 * these methods are). The contract is written once, on {@link SpillingSpanExporter}.
 *
 * @param <T> the SDK's item type: SpanData, LogRecordData or MetricData
 */
abstract class SpillingExporter<T> {
  private final Object delegate;
  final BufferedDelegate<T> buffered;

  SpillingExporter(Object delegate, BufferedDelegate<T> buffered) {
    this.delegate = delegate;
    this.buffered = buffered;
  }

  /**
   * Writes {@code items} to OTLP bytes and offers them to the spill buffer; succeeds once the
   * buffer took them, fails when it refused them (budgets spent) or after {@link #shutdown()}.
   * Never waits on the delegate.
   */
  public CompletableResultCode export(Collection<T> items) {
    return buffered.export(items);
  }

  /**
   * Completes when every batch accepted before this call is exported or sealed on disk, and the
   * delegate's own flush completed. Fails if batches held in memory could not be sealed. After
   * {@link #shutdown()}, returns the shutdown's result.
   */
  public CompletableResultCode flush() {
    return buffered.flush();
  }

  /**
   * Stops accepting and seals what memory holds to disk before returning; then, in the
   * background, replays for up to the shutdown drain timeout, closes the buffer and shuts the
   * delegate down. Idempotent: later calls return the first call's result, which succeeds when
   * the delegate's shutdown does and nothing accepted was left unsealed.
   */
  public CompletableResultCode shutdown() {
    return buffered.shutdown();
  }

  /** {@code shutdown().join(...)}, waiting as long as shutdown can take. */
  public void close() {
    buffered.close();
  }

  /** The buffer's metrics, or null once shutdown has closed it. For tests. */
  BufferMetrics bufferMetrics() {
    return buffered.bufferMetrics();
  }

  /** Items (spans, log records, data points) accepted and refused by export since start. For tests. */
  long[] acceptedAndRefused() {
    return buffered.acceptedAndRefused();
  }

  /** Batches whose SDK items are still held for export. For tests. */
  int originalsHeld() {
    return buffered.originalsHeld();
  }

  /** The drain, for tests. */
  Drain drain() {
    return buffered.drain();
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "{delegate=" + delegate + "}";
  }
}
