package dev.spillway.server.e2e;

import dev.spillway.server.testing.TestPki;
import dev.spillway.server.tls.PemFiles;
import io.grpc.Server;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import dev.spillway.server.testing.SignalRecorder;
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
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A downstream OTLP/gRPC receiver with mTLS, as a collector or Tempo would be, for all three
 * signals. Records span ids, and metric data points and log records in {@link #signals}.
 */
final class Downstream implements AutoCloseable {
  final Set<String> spanIds = ConcurrentHashMap.newKeySet();
  /** Every span that arrived, repeats included: beside {@link #spanIds}, it shows duplicates. */
  final java.util.concurrent.atomic.AtomicLong spansArrived = new java.util.concurrent.atomic.AtomicLong();
  final SignalRecorder signals = new SignalRecorder();
  private final Server server;
  private final Object arrived = new Object();

  Downstream(TestPki pki, int port) throws Exception {
    this(pki, port, 4 << 20);
  }

  /** With grpc-java's {@code maxInboundMessageSize}: larger requests get RESOURCE_EXHAUSTED. */
  Downstream(TestPki pki, int port, int maxInboundMessageSize) throws Exception {
    var ssl = GrpcSslContexts.configure(
            SslContextBuilder.forServer(PemFiles.keyManagerFactory(pki.serverCert, pki.serverKey)), SslProvider.OPENSSL)
        .trustManager(PemFiles.trustManager(pki.ca))
        .clientAuth(ClientAuth.REQUIRE)
        .build();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .sslContext(ssl)
        .maxInboundMessageSize(maxInboundMessageSize)
        .addService(new TraceServiceGrpc.TraceServiceImplBase() {
          @Override
          public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> out) {
            for (ResourceSpans rs : request.getResourceSpansList()) {
              for (ScopeSpans ss : rs.getScopeSpansList()) {
                for (Span s : ss.getSpansList()) {
                  spanIds.add(HexFormat.of().formatHex(s.getSpanId().toByteArray()));
                  spansArrived.incrementAndGet();
                  synchronized (arrived) {
                    arrived.notifyAll();
                  }
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
            signals.record(request);
            out.onNext(ExportMetricsServiceResponse.getDefaultInstance());
            out.onCompleted();
          }
        })
        .addService(new LogsServiceGrpc.LogsServiceImplBase() {
          @Override
          public void export(ExportLogsServiceRequest request, StreamObserver<ExportLogsServiceResponse> out) {
            signals.record(request);
            out.onNext(ExportLogsServiceResponse.getDefaultInstance());
            out.onCompleted();
          }
        })
        .build()
        .start();
  }

  /** Waits until at least {@code n} distinct spans arrived; false after {@code timeout}. */
  boolean awaitSpans(int n, java.time.Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (arrived) {
      while (spanIds.size() < n) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(arrived, left);
      }
    }
    return true;
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
  }
}
