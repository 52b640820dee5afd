package dev.spillway.server.telemetry;

import dev.spillway.core.QuarantineReason;
import dev.spillway.core.BufferMetrics;
import dev.spillway.core.BufferObserver;
import dev.spillway.core.PayloadType;
import dev.spillway.server.receive.OtlpWire;
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
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The daemon's metrics, on the Prometheus Java client: one registry per daemon, rendered as
 * Prometheus text by {@link #render()}. Counts items (spans, metric data points, log records) per
 * signal where the daemon scanned them (receivers, exporter, batches moved to disk) and batches
 * where the buffer reports.
 *
 * <p>The item counters stay public {@link LongAdder}s, as the receivers and the drain loop use
 * them (cheap on the hot path); the registry reads them through callbacks at scrape time.
 * Histograms are the client's (consistent under concurrent observations). Every method is
 * thread-safe and non-blocking. Holds no payload, no attribute value.
 *
 * <p>Label scheme: {@code listener} is {@code grpc}, {@code http} or {@code metrics} on every
 * metric that has it; {@code transport} on request counts is {@code grpc} or {@code http};
 * {@code signal} is {@code traces}, {@code metrics} or {@code logs} ({@code none} on requests not
 * addressed to one).
 */
public final class ServerMetrics implements BufferObserver {
  /** Latency histogram bounds, seconds: 100 µs to 10 s. */
  static final double[] LATENCY_BUCKETS = {
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };

  /** The reasons the receivers count handshake failures under (docs/SERVER.md, TLS). */
  static final List<String> TLS_FAILURE_REASONS = List.of("no_client_certificate", "bad_client_certificate", "not_tls",
      "protocol_version", "no_shared_parameters", "timeout", "closed", "other");

  /**
   * The item counters of one signal (spans, metric data points or log records), public {@link
   * LongAdder}s as the receivers and the drain use them on the hot path.
   */
  public static final class SignalCounts {
    /** Items in requests the buffer took. */
    public final LongAdder received = new LongAdder();
    /** Items refused with back-pressure (buffer full, no data key). */
    public final LongAdder refused = new LongAdder();
    /** Items sealed to disk: on arrival, or moved from memory later. */
    public final LongAdder spilled = new LongAdder();
    /** Items the downstream accepted. */
    public final LongAdder exported = new LongAdder();
    /** Items the downstream rejected in a partial success (too-large drops included, see below). */
    public final LongAdder rejectedDownstream = new LongAdder();
    /** Items dropped because the downstream called their batch invalid, or the batch did not parse. */
    public final LongAdder droppedPermanent = new LongAdder();
    /**
     * Single items the downstream refused as too large even alone, dropped by the exporter. The
     * exporter also reports them to the drain loop as rejected, so {@link #rejectedDownstream}
     * includes them; {@link #render()} shows each item under one reason only.
     */
    public final LongAdder droppedTooLarge = new LongAdder();
  }

  private final Map<OtlpWire.Signal, SignalCounts> signals = new EnumMap<>(OtlpWire.Signal.class);

  {
    for (OtlpWire.Signal s : OtlpWire.Signal.values()) {
      signals.put(s, new SignalCounts());
    }
  }

  // The trace counters under their older names (the spillway_spans_* metrics and existing callers).
  public final LongAdder spansReceived = signal(OtlpWire.Signal.TRACES).received;
  public final LongAdder spansRefused = signal(OtlpWire.Signal.TRACES).refused;
  public final LongAdder spansSpilled = signal(OtlpWire.Signal.TRACES).spilled;
  public final LongAdder spansExported = signal(OtlpWire.Signal.TRACES).exported;
  public final LongAdder spansRejectedDownstream = signal(OtlpWire.Signal.TRACES).rejectedDownstream;
  public final LongAdder spansDroppedPermanent = signal(OtlpWire.Signal.TRACES).droppedPermanent;
  public final LongAdder spansDroppedTooLarge = signal(OtlpWire.Signal.TRACES).droppedTooLarge;
  /** Batches moved to disk whose payload did not scan (never expected: the receivers validated it). */
  public final LongAdder movedUncountable = new LongAdder();
  public final LongAdder exportRetries = new LongAdder();
  public final LongAdder exportFailures = new LongAdder();
  public final LongAdder tlsReloads = new LongAdder();
  public final LongAdder tlsReloadFailures = new LongAdder();

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final LongAdder tlsFailuresTotal = new LongAdder();
  /** The {@code signal} label of requests not addressed to a signal (wrong path, unknown service). */
  public static final String NO_SIGNAL = "none";

  private final Counter requests;
  private final Map<String, LongAdder> requestTotals = new ConcurrentHashMap<>();
  private final Counter tlsFailures;
  private final Counter quarantined;
  private final Histogram storageWrite;
  private final LongAdder storageWrittenBytes = new LongAdder();
  private final Histogram keyCalls;
  private final Histogram exportLatency;
  private volatile Supplier<BufferMetrics> buffer = () -> null;

  public ServerMetrics() {
    signalCounter("spillway_items_received_total",
        "Items (spans, metric data points, log records) in OTLP requests the buffer took, by signal.", c -> c.received);
    signalCounter("spillway_items_refused_total", "Items refused with back-pressure (buffer full), by signal.",
        c -> c.refused);
    signalCounter("spillway_items_spilled_total",
        "Items sealed to disk, on arrival or moved from memory later, by signal.", c -> c.spilled);
    signalCounter("spillway_items_exported_total", "Items the downstream accepted, by signal.", c -> c.exported);
    CounterWithCallback.builder().name("spillway_items_dropped_total").help("Items dropped, by signal and reason.")
        .labelNames("signal", "reason")
        .callback(cb -> {
          for (Map.Entry<OtlpWire.Signal, SignalCounts> e : signals.entrySet()) {
            String signal = e.getKey().label();
            SignalCounts c = e.getValue();
            long tooLarge = c.droppedTooLarge.sum();
            cb.call(Math.max(0, c.rejectedDownstream.sum() - tooLarge), signal, "rejected_by_downstream");
            cb.call(c.droppedPermanent.sum(), signal, "permanent_export_error");
            cb.call(tooLarge, signal, "too_large_for_downstream");
          }
        })
        .register(registry);
    // The same trace counts under the names dashboards used before metrics and logs were served.
    counter("spillway_spans_received_total", "Spans in OTLP requests accepted by the receivers"
        + " (= spillway_items_received_total{signal=\"traces\"}).", spansReceived);
    counter("spillway_spans_refused_total", "Spans refused with back-pressure (buffer full)"
        + " (= spillway_items_refused_total{signal=\"traces\"}).", spansRefused);
    counter("spillway_spans_spilled_total", "Spans sealed to disk, on arrival or moved from memory later"
        + " (= spillway_items_spilled_total{signal=\"traces\"}).", spansSpilled);
    counter("spillway_spans_exported_total", "Spans the downstream accepted"
        + " (= spillway_items_exported_total{signal=\"traces\"}).", spansExported);
    CounterWithCallback.builder().name("spillway_spans_dropped_total")
        .help("Spans dropped, by reason (= spillway_items_dropped_total{signal=\"traces\"}).")
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
        .help("OTLP requests by transport, signal (none: not addressed to a signal) and outcome.")
        .labelNames("transport", "signal", "outcome").register(registry);
    tlsFailures = Counter.builder().name("spillway_tls_handshake_failures_total")
        .help("Failed TLS handshakes by listener and reason.").labelNames("listener", "reason").register(registry);
    counter("spillway_tls_reloads_total", "TLS material reloads after file changes.", tlsReloads);
    counter("spillway_tls_reload_failures_total", "TLS file changes that did not load (old material kept).", tlsReloadFailures);
    counter("spillway_storage_written_bytes_total",
        "Bytes appended to the spill: sealed batches and their key records, as stored.", storageWrittenBytes);
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
      for (OtlpWire.Signal signal : OtlpWire.Signal.values()) {
        requests.labelValues(transport, signal.label(), "ok");
      }
    }
    for (QuarantineReason r : QuarantineReason.values()) {
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
    // What the drain found wrong in the spill's structure (issue #13): each is also logged.
    bufferCounter("spillway_buffer_records_torn_total", "Records torn by a crash mid-write (or a zeroed header), skipped.",
        BufferMetrics::torn);
    bufferCounter("spillway_buffer_records_missing_total",
        "Records missing from their writer streams (sequence gaps: deleted, or dropped by drop-oldest).",
        BufferMetrics::missing);
    bufferCounter("spillway_buffer_records_metadata_bit_total",
        "Spill records marked as Chronicle metadata (an edited file), skipped.", BufferMetrics::metadataRecords);
    bufferCounter("spillway_buffer_unreadable_segments_total",
        "Places where a spill segment could not be read on (damaged or edited); the rest was skipped.",
        BufferMetrics::unreadableRecords);
  }

  private void signalCounter(String name, String help, Function<SignalCounts, LongAdder> source) {
    CounterWithCallback.builder().name(name).help(help).labelNames("signal").callback(cb -> {
      for (Map.Entry<OtlpWire.Signal, SignalCounts> e : signals.entrySet()) {
        cb.call(source.apply(e.getValue()).sum(), e.getKey().label());
      }
    }).register(registry);
  }

  /** The item counters of one signal. */
  public SignalCounts signal(OtlpWire.Signal signal) {
    return signals.get(signal);
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

  /**
   * One request or connection finished that was not addressed to a signal (a wrong path, an
   * unknown gRPC service, a connection closed before a request); {@code outcome} is a fixed word.
   */
  public void request(String transport, String outcome) {
    request(transport, NO_SIGNAL, outcome);
  }

  /** One OTLP request finished; {@code outcome} is a fixed word (ok, refused, bad_request, ...). */
  public void request(String transport, OtlpWire.Signal signal, String outcome) {
    request(transport, signal.label(), outcome);
  }

  private void request(String transport, String signal, String outcome) {
    String t = listener(transport);
    requests.labelValues(t, signal, outcome).inc();
    requestTotals.computeIfAbsent(t + ' ' + outcome, k -> new LongAdder()).increment();
  }

  /** Requests of a transport and outcome, all signals together. */
  public long requests(String transport, String outcome) {
    LongAdder n = requestTotals.get(listener(transport) + ' ' + outcome);
    return n == null ? 0 : n.sum();
  }

  /** Requests of a transport, signal and outcome. */
  public long requests(String transport, OtlpWire.Signal signal, String outcome) {
    return (long) requests.labelValues(listener(transport), signal.label(), outcome).get();
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
    storageWrittenBytes.add(bytes);
  }

  @Override
  public void onKeyProviderCall(String operation, long nanos, boolean success) {
    keyCalls.labelValues(operation, String.valueOf(success)).observe(nanos / 1e9);
  }

  /**
   * Counts the items of a batch that was held in memory and sealed to disk later, so the spilled
   * counters cover everything that reached the spill. The payload is scanned, never kept.
   */
  @Override
  public void onMovedToDisk(PayloadType type, byte[] payload) {
    try {
      signal(OtlpWire.Signal.of(type)).spilled.add(OtlpWire.count(type, payload));
    } catch (OtlpWire.Refused e) {
      movedUncountable.increment(); // the receivers validated it; a count, not a log line per batch
    }
  }

  @Override
  public void onQuarantine(QuarantineReason reason) {
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
