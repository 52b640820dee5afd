package dev.spillway.server.reliability;

import dev.spillway.server.receive.OtlpWire;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import java.util.List;
import com.google.protobuf.ByteString;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestPki;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An OTLP/gRPC client over mTLS that sends spans with unique numeric span ids and records exactly
 * which ones the daemon acknowledged (OK). Refusals (UNAVAILABLE, RESOURCE_EXHAUSTED) and
 * connection failures are counted, never recorded as acknowledged. With {@link #rotate} it sends
 * metrics and logs requests in turn with the spans: each data point and log record carries its
 * unique id in an {@code id} attribute, so {@link RecordingDownstream} checks them the same way.
 */
final class SpanClient implements AutoCloseable {
  static final byte[] TRACE_ID = {0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  final Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
  final AtomicLong okRequests = new AtomicLong();
  final AtomicLong failedRequests = new AtomicLong();
  final ConcurrentHashMap<String, AtomicLong> failures = new ConcurrentHashMap<>();
  /** The first distinct failure descriptions (at most 8), for failure messages. */
  final Set<String> failureSamples = ConcurrentHashMap.newKeySet();
  /** Items acknowledged per signal (spans, data points, log records). */
  final ConcurrentHashMap<OtlpWire.Signal, AtomicLong> acknowledgedBySignal = new ConcurrentHashMap<>();
  private volatile List<OtlpWire.Signal> rotation = List.of(OtlpWire.Signal.TRACES);
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong nextId;
  private final ManagedChannel channel;
  private final int spansPerRequest;
  private final int attributeBytes;

  SpanClient(int port, TestPki pki, long firstId, int spansPerRequest, int attributeBytes) throws Exception {
    this.channel = TestClients.grpc(port, pki.ca, pki.clientCert, pki.clientKey);
    this.nextId = new AtomicLong(firstId);
    this.spansPerRequest = spansPerRequest;
    this.attributeBytes = attributeBytes;
  }

  static ExportTraceServiceRequest request(long firstId, int spans, int attributeBytes) {
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    byte[] raw = new byte[attributeBytes * 3 / 4 + 1];
    for (int i = 0; i < spans; i++) {
      // Random text per span: LZ4 in the spill must not shrink the test's bytes to nothing.
      java.util.concurrent.ThreadLocalRandom.current().nextBytes(raw);
      String value = java.util.Base64.getEncoder().encodeToString(raw).substring(0, attributeBytes);
      ss.addSpans(Span.newBuilder()
          .setTraceId(ByteString.copyFrom(TRACE_ID))
          .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(firstId + i).array()))
          .setName("reliability")
          .setStartTimeUnixNano(1_700_000_000_000_000_000L)
          .setEndTimeUnixNano(1_700_000_000_100_000_000L)
          .addAttributes(KeyValue.newBuilder().setKey("payload").setValue(AnyValue.newBuilder().setStringValue(value))));
    }
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(ss)).build();
  }

  /** Sends requests of these signals in turn (traces only by default). */
  SpanClient rotate(OtlpWire.Signal... signals) {
    this.rotation = List.of(signals);
    return this;
  }

  /** A metrics request: one gauge whose data points carry ids {@code firstId...} and random text. */
  static ExportMetricsServiceRequest metricsRequest(long firstId, int points, int attributeBytes) {
    Gauge.Builder g = Gauge.newBuilder();
    for (int i = 0; i < points; i++) {
      g.addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(1_700_000_000_000_000_000L).setAsDouble(i)
          .addAttributes(KeyValue.newBuilder().setKey("id").setValue(AnyValue.newBuilder().setIntValue(firstId + i)))
          .addAttributes(KeyValue.newBuilder().setKey("payload").setValue(AnyValue.newBuilder().setStringValue(text(attributeBytes)))));
    }
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .addScopeMetrics(ScopeMetrics.newBuilder().addMetrics(Metric.newBuilder().setName("reliability").setGauge(g))))
        .build();
  }

  /** A logs request whose records carry ids {@code firstId...} and random text bodies. */
  static ExportLogsServiceRequest logsRequest(long firstId, int records, int attributeBytes) {
    ScopeLogs.Builder sl = ScopeLogs.newBuilder();
    for (int i = 0; i < records; i++) {
      sl.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(1_700_000_000_000_000_000L)
          .setBody(AnyValue.newBuilder().setStringValue(text(attributeBytes)))
          .addAttributes(KeyValue.newBuilder().setKey("id").setValue(AnyValue.newBuilder().setIntValue(firstId + i))));
    }
    return ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(sl)).build();
  }

  private static String text(int bytes) {
    byte[] raw = new byte[bytes * 3 / 4 + 1];
    java.util.concurrent.ThreadLocalRandom.current().nextBytes(raw);
    return java.util.Base64.getEncoder().encodeToString(raw).substring(0, bytes);
  }

  int requestBytes() {
    return request(0, spansPerRequest, attributeBytes).getSerializedSize();
  }

  /** Sends one request; true if the daemon answered OK (then its spans are acknowledged). */
  boolean sendOne() {
    long first = nextId.getAndAdd(spansPerRequest);
    List<OtlpWire.Signal> r = rotation;
    // The next signal only after a success, so every signal of the rotation gets acknowledged items.
    OtlpWire.Signal signal = r.get((int) (sent.get() % r.size()));
    try {
      switch (signal) {
        case TRACES -> TraceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
            .export(request(first, spansPerRequest, attributeBytes));
        case METRICS -> MetricsServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
            .export(metricsRequest(first, spansPerRequest, attributeBytes));
        case LOGS -> LogsServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
            .export(logsRequest(first, spansPerRequest, attributeBytes));
      }
      for (int i = 0; i < spansPerRequest; i++) {
        acknowledged.add(first + i);
      }
      acknowledgedBySignal.computeIfAbsent(signal, k -> new AtomicLong()).addAndGet(spansPerRequest);
      sent.incrementAndGet();
      okRequests.incrementAndGet();
      return true;
    } catch (StatusRuntimeException e) {
      failedRequests.incrementAndGet();
      failures.computeIfAbsent(e.getStatus().getCode().name(), k -> new AtomicLong()).incrementAndGet();
      if (failureSamples.size() < 8) {
        failureSamples.add(e.getStatus().getCode() + ": " + e.getStatus().getDescription()
            + (e.getCause() == null ? "" : " / " + e.getCause()));
      }
      channel.resetConnectBackoff(); // the daemon restarts on the same port: reconnect at once
      return false;
    }
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
  }
}
