package dev.spillway.server.reliability;

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
 * connection failures are counted, never recorded as acknowledged.
 */
final class SpanClient implements AutoCloseable {
  static final byte[] TRACE_ID = {0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  final Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
  final AtomicLong okRequests = new AtomicLong();
  final AtomicLong failedRequests = new AtomicLong();
  final ConcurrentHashMap<String, AtomicLong> failures = new ConcurrentHashMap<>();
  /** The first distinct failure descriptions (at most 8), for failure messages. */
  final Set<String> failureSamples = ConcurrentHashMap.newKeySet();
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

  int requestBytes() {
    return request(0, spansPerRequest, attributeBytes).getSerializedSize();
  }

  /** Sends one request; true if the daemon answered OK (then its spans are acknowledged). */
  boolean sendOne() {
    long first = nextId.getAndAdd(spansPerRequest);
    try {
      TraceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .export(request(first, spansPerRequest, attributeBytes));
      for (int i = 0; i < spansPerRequest; i++) {
        acknowledged.add(first + i);
      }
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
