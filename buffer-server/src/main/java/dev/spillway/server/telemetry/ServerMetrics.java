package dev.spillway.server.telemetry;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.BufferObserver;
import dev.spillway.core.seal.EnvelopeException;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The daemon's metrics, on the Prometheus Java client: one registry per daemon, rendered as
 * Prometheus text by {@link #render()}. Counts spans where the daemon parsed them (receivers,
 * exporter) and batches where the buffer reports (it does not parse payloads).
 *
 * <p>The span counters stay public {@link LongAdder}s, as the receivers and the drain loop use
 * them (cheap on the hot path); the registry reads them through callbacks at scrape time.
 * Histograms are the client's (consistent under concurrent observations). Every method is
 * thread-safe and non-blocking. Holds no payload, no attribute value.
 *
 * <p>Label scheme: {@code listener} is {@code grpc}, {@code http} or {@code metrics} on every
 * metric that has it; {@code transport} on request counts is {@code grpc} or {@code http}.
 */
public final class ServerMetrics implements BufferObserver {
  /** Latency histogram bounds, seconds: 100 µs to 10 s. */
  static final double[] LATENCY_BUCKETS = {
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };

  /** The reasons the receivers count handshake failures under (docs/SERVER.md, TLS). */
  static final List<String> TLS_FAILURE_REASONS = List.of("no_client_certificate", "bad_client_certificate", "not_tls",
      "protocol_version", "no_shared_parameters", "timeout", "closed", "other");

  public final LongAdder spansReceived = new LongAdder();
  public final LongAdder spansRefused = new LongAdder();
  public final LongAdder spansSpilled = new LongAdder();
  public final LongAdder spansExported = new LongAdder();
  public final LongAdder spansRejectedDownstream = new LongAdder();
  public final LongAdder spansDroppedPermanent = new LongAdder();
  /**
   * Single spans the downstream refused as too large even alone, dropped by the exporter. The
   * exporter also reports them to the drain loop as rejected, so {@link #spansRejectedDownstream}
   * includes them; {@link #render()} shows each span under one reason only.
   */
  public final LongAdder spansDroppedTooLarge = new LongAdder();
  public final LongAdder exportRetries = new LongAdder();
  public final LongAdder exportFailures = new LongAdder();
  public final LongAdder tlsReloads = new LongAdder();
  public final LongAdder tlsReloadFailures = new LongAdder();

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final LongAdder tlsFailuresTotal = new LongAdder();
  private final Counter requests;
  private final Counter tlsFailures;
  private final Counter quarantined;
  private final Histogram storageWrite;
  private final Histogram keyCalls;
  private final Histogram exportLatency;
  private volatile Supplier<BufferMetrics> buffer = () -> null;

  public ServerMetrics() {
    counter("spillway_spans_received_total", "Spans in OTLP requests accepted by the receivers.", spansReceived);
    counter("spillway_spans_refused_total", "Spans refused with back-pressure (buffer full).", spansRefused);
    counter("spillway_spans_spilled_total", "Spans whose batch was sealed to disk on arrival.", spansSpilled);
    counter("spillway_spans_exported_total", "Spans the downstream accepted.", spansExported);
    CounterWithCallback.builder().name("spillway_spans_dropped_total").help("Spans dropped, by reason.")
        .labelNames("reason")
        .callback(cb -> {
          long tooLarge = spansDroppedTooLarge.sum();
          cb.call(Math.max(0, spansRejectedDownstream.sum() - tooLarge), "rejected_by_downstream");
          cb.call(spansDroppedPermanent.sum(), "permanent_export_error");
          cb.call(tooLarge, "too_large_for_downstream");
        })
        .register(registry);
    counter("spillway_export_retries_total", "Export attempts retried after a retryable failure.", exportRetries);
    counter("spillway_export_failures_total", "Batches released back to the buffer after the retry budget.", exportFailures);
    requests = Counter.builder().name("spillway_receiver_requests_total")
        .help("OTLP requests by transport and outcome.").labelNames("transport", "outcome").register(registry);
    tlsFailures = Counter.builder().name("spillway_tls_handshake_failures_total")
        .help("Failed TLS handshakes by listener and reason.").labelNames("listener", "reason").register(registry);
    counter("spillway_tls_reloads_total", "TLS material reloads after file changes.", tlsReloads);
    counter("spillway_tls_reload_failures_total", "TLS file changes that did not load (old material kept).", tlsReloadFailures);
    storageWrite = Histogram.builder().name("storage_write_latency_seconds")
        .help("Time to append one sealed batch to the spill.").classicOnly().classicUpperBounds(LATENCY_BUCKETS)
        .register(registry);
    keyCalls = Histogram.builder().name("spillway_key_provider_call_seconds")
        .help("Key provider call latency by operation and success.").labelNames("operation", "success")
        .classicOnly().classicUpperBounds(LATENCY_BUCKETS).register(registry);
    exportLatency = Histogram.builder().name("spillway_export_latency_seconds").help("Latency of one export attempt.")
        .classicOnly().classicUpperBounds(LATENCY_BUCKETS).register(registry);
    quarantined = Counter.builder().name("spillway_buffer_quarantined_by_reason_total")
        .help("Spill records quarantined, by reason.").labelNames("reason").register(registry);

    // Known label values start at 0, so every series exists before its first event (rate() and
    // dashboards need the zero) and every metric is listed from the first scrape.
    for (String l : List.of("grpc", "http", "metrics")) {
      for (String reason : TLS_FAILURE_REASONS) {
        tlsFailures.labelValues(l, reason);
      }
    }
    for (String transport : List.of("grpc", "http")) {
      requests.labelValues(transport, "ok");
    }
    for (EnvelopeException.Reason r : EnvelopeException.Reason.values()) {
      quarantined.labelValues(String.valueOf(r));
    }

    bufferGauge("spillway_buffer_memory_bytes", "Payload bytes held in memory.", BufferMetrics::memoryBytes);
    bufferGauge("spillway_buffer_memory_batches", "Batches held in memory.", BufferMetrics::memoryBatches);
    bufferGauge("spillway_buffer_disk_bytes", "Bytes the spill directory occupies.", BufferMetrics::diskBytes);
    bufferGauge("spillway_buffer_disk_batches_pending", "Sealed batches on disk not yet acknowledged.",
        BufferMetrics::diskRecordsPending);
    bufferGauge("spillway_buffer_oldest_record_age_seconds", "Age of the oldest unacknowledged batch on disk.",
        b -> b.oldestRecordAgeMillis() / 1000.0);
    bufferCounter("spillway_key_epochs_total", "Data keys (epochs) this writer has used.", BufferMetrics::keyEpochs);
    bufferCounter("spillway_key_requests_total", "Calls to the key provider to issue a data key.", BufferMetrics::keyRequests);
    bufferCounter("spillway_buffer_batches_offered_total", "Batches offered to the buffer.", BufferMetrics::offered);
    bufferCounter("spillway_buffer_batches_spilled_total",
        "Batches sealed to disk, on arrival or moved from memory later.", BufferMetrics::spilled);
    bufferCounter("spillway_buffer_batches_refused_total", "Batches refused with back-pressure.", BufferMetrics::refused);
    bufferCounter("spillway_buffer_batches_dropped_total", "Batches dropped by the disk budget or age policy.",
        BufferMetrics::dropped);
    bufferCounter("spillway_buffer_batches_delivered_total", "Deliveries to the exporter (redeliveries included).",
        BufferMetrics::delivered);
    bufferCounter("spillway_buffer_batches_acked_total", "Deliveries acknowledged.", BufferMetrics::acked);
    bufferCounter("spillway_buffer_batches_quarantined_total", "Records quarantined.", BufferMetrics::quarantined);
    bufferCounter("spillway_buffer_storage_faults_total", "Appends that failed on the storage.", BufferMetrics::storageFaults);
    // Issue #13: a torn record (a header word zeroed or a crash mid-write) was skipped uncounted.
    bufferCounter("spillway_buffer_records_torn_total", "Spill records torn (crash mid-write or a damaged header), skipped.",
        BufferMetrics::torn);
  }

  private void counter(String name, String help, LongAdder source) {
    CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(source.sum())).register(registry);
  }

  private void bufferGauge(String name, String help, ToDoubleFunction<BufferMetrics> value) {
    GaugeWithCallback.builder().name(name).help(help).callback(cb -> {
      BufferMetrics b = buffer.get();
      if (b != null) {
        cb.call(value.applyAsDouble(b));
      }
    }).register(registry);
  }

  private void bufferCounter(String name, String help, ToDoubleFunction<BufferMetrics> value) {
    CounterWithCallback.builder().name(name).help(help).callback(cb -> {
      BufferMetrics b = buffer.get();
      if (b != null) {
        cb.call(value.applyAsDouble(b));
      }
    }).register(registry);
  }

  /** Where the buffer's gauges and batch counters come from (set once the buffer is open). */
  public void bufferMetrics(Supplier<BufferMetrics> source) {
    this.buffer = source;
  }

  /** One OTLP request finished; {@code outcome} is a fixed word (ok, refused, bad_request, ...). */
  public void request(String transport, String outcome) {
    requests.labelValues(listener(transport), outcome).inc();
  }

  public long requests(String transport, String outcome) {
    return (long) requests.labelValues(listener(transport), outcome).get();
  }

  /** A TLS handshake failed; {@code reason} is a short fixed word derived from the exception. */
  public void tlsHandshakeFailure(String listener, String reason) {
    tlsFailuresTotal.increment();
    tlsFailures.labelValues(listener(listener), reason).inc();
  }

  public long tlsHandshakeFailures() {
    return tlsFailuresTotal.sum();
  }

  /**
   * One label scheme for listeners: callers name them by configuration path
   * ({@code receivers.otlp.protocols.http}, {@code telemetry.metrics}) or by protocol ({@code
   * grpc}); the metric says {@code grpc}, {@code http} or {@code metrics}.
   */
  static String listener(String name) {
    int dot = name.lastIndexOf('.');
    String last = dot < 0 ? name : name.substring(dot + 1);
    return last.equals("tls") ? listener(name.substring(0, dot)) : last;
  }

  public void exportLatencyNanos(long nanos) {
    exportLatency.observe(nanos / 1e9);
  }

  @Override
  public void onStorageWrite(long nanos, int bytes) {
    storageWrite.observe(nanos / 1e9);
  }

  @Override
  public void onKeyProviderCall(String operation, long nanos, boolean success) {
    keyCalls.labelValues(operation, String.valueOf(success)).observe(nanos / 1e9);
  }

  @Override
  public void onQuarantine(EnvelopeException.Reason reason) {
    quarantined.labelValues(String.valueOf(reason)).inc();
  }

  /** The registry, for other exporters of the same metrics (OTLP push). */
  public PrometheusRegistry registry() {
    return registry;
  }

  /** Prometheus text exposition format 0.0.4. */
  public String render() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try {
      PrometheusTextFormatWriter.create().write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
