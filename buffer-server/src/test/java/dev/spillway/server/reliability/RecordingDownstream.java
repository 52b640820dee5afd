package dev.spillway.server.reliability;

import dev.spillway.server.testing.TestPki;
import dev.spillway.server.tls.PemFiles;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A downstream OTLP/gRPC receiver with mTLS on a loopback port, as a collector or Tempo would be.
 * Counts every delivery of every span id, and of every metric data point and log record id
 * ({@link SpanClient#rotate}), so duplicates show; and can be told to fail
 * (UNAVAILABLE) or to answer slowly. {@link #stop()} and {@link #start()} take it off the network.
 */
final class RecordingDownstream implements AutoCloseable {
  final ConcurrentHashMap<Long, AtomicInteger> deliveries = new ConcurrentHashMap<>();
  final AtomicLong requests = new AtomicLong();
  volatile boolean failing;
  volatile long delayMillis;
  private final TestPki pki;
  private final int port;
  private final Object lifecycle = new Object(); // guards server
  private Server server;

  RecordingDownstream(TestPki pki, int port) {
    this.pki = pki;
    this.port = port;
  }

  void start() throws Exception {
    synchronized (lifecycle) {
      if (server != null) {
        return;
      }
      var ssl = GrpcSslContexts.configure(
              SslContextBuilder.forServer(PemFiles.keyManagerFactory(pki.serverCert, pki.serverKey)), SslProvider.OPENSSL)
          .trustManager(PemFiles.trustManager(pki.ca))
          .clientAuth(ClientAuth.REQUIRE)
          .build();
      server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
          .sslContext(ssl)
          .maxInboundMessageSize(16 << 20)
          .addService(new TraceServiceGrpc.TraceServiceImplBase() {
            @Override
            public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> out) {
              requests.incrementAndGet();
              long delay = delayMillis;
              if (delay > 0) {
                try {
                  Thread.sleep(delay); // the slow downstream itself, not a test wait
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              if (failing) {
                out.onError(Status.UNAVAILABLE.withDescription("downstream down (test)").asRuntimeException());
                return;
              }
              for (ResourceSpans rs : request.getResourceSpansList()) {
                for (ScopeSpans ss : rs.getScopeSpansList()) {
                  for (Span s : ss.getSpansList()) {
                    long id = ByteBuffer.wrap(s.getSpanId().toByteArray()).getLong();
                    deliveries.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                  }
                }
              }
              out.onNext(ExportTraceServiceResponse.getDefaultInstance());
              out.onCompleted();
            }
          })
          .addService(new MetricsServiceGrpc.MetricsServiceImplBase() {
            @Override
            public void export(ExportMetricsServiceRequest request, StreamObserver<ExportMetricsServiceResponse> out) {
              if (answer(out)) {
                request.getResourceMetricsList().forEach(rm -> rm.getScopeMetricsList().forEach(sm ->
                    sm.getMetricsList().forEach(m -> m.getGauge().getDataPointsList().forEach(p -> delivered(p.getAttributesList())))));
                out.onNext(ExportMetricsServiceResponse.getDefaultInstance());
                out.onCompleted();
              }
            }
          })
          .addService(new LogsServiceGrpc.LogsServiceImplBase() {
            @Override
            public void export(ExportLogsServiceRequest request, StreamObserver<ExportLogsServiceResponse> out) {
              if (answer(out)) {
                request.getResourceLogsList().forEach(rl -> rl.getScopeLogsList().forEach(sl ->
                    sl.getLogRecordsList().forEach(r -> delivered(r.getAttributesList()))));
                out.onNext(ExportLogsServiceResponse.getDefaultInstance());
                out.onCompleted();
              }
            }
          })
          .build()
          .start();
    }
  }

  /** Counts the request, waits if slow; false (after answering UNAVAILABLE) if failing. */
  private boolean answer(StreamObserver<?> out) {
    requests.incrementAndGet();
    long delay = delayMillis;
    if (delay > 0) {
      try {
        Thread.sleep(delay); // the slow downstream itself, not a test wait
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (failing) {
      out.onError(Status.UNAVAILABLE.withDescription("downstream down (test)").asRuntimeException());
      return false;
    }
    return true;
  }

  /** A data point or log record from {@link SpanClient}: its id is the {@code id} attribute. */
  private void delivered(java.util.List<io.opentelemetry.proto.common.v1.KeyValue> attributes) {
    for (var kv : attributes) {
      if (kv.getKey().equals("id")) {
        deliveries.computeIfAbsent(kv.getValue().getIntValue(), k -> new AtomicInteger()).incrementAndGet();
      }
    }
  }

  void stop() throws InterruptedException {
    synchronized (lifecycle) {
      if (server != null) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
        server = null;
      }
    }
  }

  /** Waits (bounded) until every id in {@code expected} was delivered at least once. */
  boolean awaitAll(Set<Long> expected, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (System.nanoTime() < deadline) {
      if (deliveries.keySet().containsAll(expected)) {
        return true;
      }
      Thread.sleep(100); // polling another process's progress: no latch to wait on
    }
    return deliveries.keySet().containsAll(expected);
  }

  long duplicates() {
    long d = 0;
    for (AtomicInteger c : deliveries.values()) {
      d += c.get() - 1;
    }
    return d;
  }

  long missing(Set<Long> expected) {
    return expected.stream().filter(id -> !deliveries.containsKey(id)).count();
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
