package dev.spillway.server.telemetry;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.BufferObserver;
import dev.spillway.core.seal.EnvelopeException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The daemon's counters, rendered as Prometheus text by {@link #render()}. Counts spans where the
 * daemon parsed them (receivers, exporter) and batches where the buffer reports (it does not parse
 * payloads). Every method is thread-safe and non-blocking. Holds no payload, no attribute value.
 */
public final class ServerMetrics implements BufferObserver {
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

  private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> tlsFailures = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> quarantined = new ConcurrentHashMap<>();
  private final Histogram storageWrite = new Histogram(Histogram.LATENCY_BUCKETS);
  private final Map<String, Histogram> keyCalls = new ConcurrentHashMap<>();
  private final Histogram exportLatency = new Histogram(Histogram.LATENCY_BUCKETS);
  private volatile Supplier<BufferMetrics> buffer = () -> null;

  /** Where the buffer's gauges and batch counters come from (set once the buffer is open). */
  public void bufferMetrics(Supplier<BufferMetrics> source) {
    this.buffer = source;
  }

  /** One OTLP request finished; {@code outcome} is a fixed word (ok, refused, bad_request, ...). */
  public void request(String transport, String outcome) {
    requests.computeIfAbsent(transport + "\u0000" + outcome, k -> new LongAdder()).increment();
  }

  public long requests(String transport, String outcome) {
    LongAdder a = requests.get(transport + "\u0000" + outcome);
    return a == null ? 0 : a.sum();
  }

  /** A TLS handshake failed; {@code reason} is a short fixed word derived from the exception. */
  public void tlsHandshakeFailure(String listener, String reason) {
    tlsFailures.computeIfAbsent(listener + "\u0000" + reason, k -> new LongAdder()).increment();
  }

  public long tlsHandshakeFailures() {
    return tlsFailures.values().stream().mapToLong(LongAdder::sum).sum();
  }

  public void exportLatencyNanos(long nanos) {
    exportLatency.observeNanos(nanos);
  }

  @Override
  public void onStorageWrite(long nanos, int bytes) {
    storageWrite.observeNanos(nanos);
  }

  @Override
  public void onKeyProviderCall(String operation, long nanos, boolean success) {
    keyCalls.computeIfAbsent(operation + "\u0000" + success, k -> new Histogram(Histogram.LATENCY_BUCKETS))
        .observeNanos(nanos);
  }

  @Override
  public void onQuarantine(EnvelopeException.Reason reason) {
    quarantined.computeIfAbsent(String.valueOf(reason), k -> new LongAdder()).increment();
  }

  /** Prometheus text exposition format 0.0.4. */
  public String render() {
    StringBuilder o = new StringBuilder(4096);
    counter(o, "spillway_spans_received_total", "Spans in OTLP requests accepted by the receivers.", spansReceived.sum());
    counter(o, "spillway_spans_refused_total", "Spans refused with back-pressure (buffer full).", spansRefused.sum());
    counter(o, "spillway_spans_spilled_total", "Spans whose batch was sealed to disk on arrival.", spansSpilled.sum());
    counter(o, "spillway_spans_exported_total", "Spans the downstream accepted.", spansExported.sum());
    header(o, "spillway_spans_dropped_total", "Spans dropped, by reason.", "counter");
    long tooLarge = spansDroppedTooLarge.sum();
    line(o, "spillway_spans_dropped_total", "reason=\"rejected_by_downstream\"",
        Math.max(0, spansRejectedDownstream.sum() - tooLarge));
    line(o, "spillway_spans_dropped_total", "reason=\"too_large_for_downstream\"", tooLarge);
    line(o, "spillway_spans_dropped_total", "reason=\"permanent_export_error\"", spansDroppedPermanent.sum());
    counter(o, "spillway_export_retries_total", "Export attempts retried after a retryable failure.", exportRetries.sum());
    counter(o, "spillway_export_failures_total", "Batches released back to the buffer after the retry budget.", exportFailures.sum());
    header(o, "spillway_receiver_requests_total", "OTLP requests by transport and outcome.", "counter");
    requests.forEach((k, v) -> {
      String[] p = k.split("\u0000", 2);
      line(o, "spillway_receiver_requests_total", "transport=\"" + p[0] + "\",outcome=\"" + p[1] + "\"", v.sum());
    });
    header(o, "spillway_tls_handshake_failures_total", "Failed TLS handshakes by listener and reason.", "counter");
    tlsFailures.forEach((k, v) -> {
      String[] p = k.split("\u0000", 2);
      line(o, "spillway_tls_handshake_failures_total", "listener=\"" + p[0] + "\",reason=\"" + p[1] + "\"", v.sum());
    });
    counter(o, "spillway_tls_reloads_total", "TLS material reloads after file changes.", tlsReloads.sum());
    counter(o, "spillway_tls_reload_failures_total", "TLS file changes that did not load (old material kept).", tlsReloadFailures.sum());
    header(o, "storage_write_latency_seconds", "Time to append one sealed batch to the spill.", "histogram");
    storageWrite.render(o, "storage_write_latency_seconds", "");
    header(o, "spillway_key_provider_call_seconds", "Key provider call latency by operation and success.", "histogram");
    keyCalls.forEach((k, h) -> {
      String[] p = k.split("\u0000", 2);
      h.render(o, "spillway_key_provider_call_seconds", "operation=\"" + p[0] + "\",success=\"" + p[1] + "\"");
    });
    header(o, "spillway_export_latency_seconds", "Latency of one export attempt.", "histogram");
    exportLatency.render(o, "spillway_export_latency_seconds", "");
    header(o, "spillway_buffer_quarantined_by_reason_total", "Spill records quarantined, by reason.", "counter");
    quarantined.forEach((k, v) -> line(o, "spillway_buffer_quarantined_by_reason_total", "reason=\"" + k + "\"", v.sum()));
    BufferMetrics b = buffer.get();
    if (b != null) {
      gauge(o, "spillway_buffer_memory_bytes", "Payload bytes held in memory.", b.memoryBytes());
      gauge(o, "spillway_buffer_memory_batches", "Batches held in memory.", b.memoryBatches());
      gauge(o, "spillway_buffer_disk_bytes", "Bytes the spill directory occupies.", b.diskBytes());
      gauge(o, "spillway_buffer_disk_batches_pending", "Sealed batches on disk not yet acknowledged.", b.diskRecordsPending());
      gauge(o, "spillway_buffer_oldest_record_age_seconds", "Age of the oldest unacknowledged batch on disk.", b.oldestRecordAgeMillis() / 1000.0);
      counter(o, "spillway_key_epochs_total", "Data keys (epochs) this writer has used.", b.keyEpochs());
      counter(o, "spillway_key_requests_total", "Calls to the key provider to issue a data key.", b.keyRequests());
      counter(o, "spillway_buffer_batches_offered_total", "Batches offered to the buffer.", b.offered());
      counter(o, "spillway_buffer_batches_spilled_total", "Batches sealed to disk.", b.spilled());
      counter(o, "spillway_buffer_batches_refused_total", "Batches refused with back-pressure.", b.refused());
      counter(o, "spillway_buffer_batches_dropped_total", "Batches dropped by the disk budget or age policy.", b.dropped());
      counter(o, "spillway_buffer_batches_delivered_total", "Deliveries to the exporter (redeliveries included).", b.delivered());
      counter(o, "spillway_buffer_batches_acked_total", "Deliveries acknowledged.", b.acked());
      counter(o, "spillway_buffer_batches_quarantined_total", "Records quarantined.", b.quarantined());
      counter(o, "spillway_buffer_storage_faults_total", "Appends that failed on the storage.", b.storageFaults());
    }
    return o.toString();
  }

  private static void counter(StringBuilder o, String name, String help, long v) {
    header(o, name, help, "counter");
    line(o, name, "", v);
  }

  private static void gauge(StringBuilder o, String name, String help, double v) {
    header(o, name, help, "gauge");
    o.append(name).append(' ').append(v).append('\n');
  }

  private static void header(StringBuilder o, String name, String help, String type) {
    o.append("# HELP ").append(name).append(' ').append(help).append('\n');
    o.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void line(StringBuilder o, String name, String labels, long v) {
    o.append(name);
    if (!labels.isEmpty()) {
      o.append('{').append(labels).append('}');
    }
    o.append(' ').append(v).append('\n');
  }
}
