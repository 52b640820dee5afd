package dev.spillway.server.testing;

import dev.spillway.server.tls.PemFiles;
import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/** Real TLS clients for tests: the JDK HTTP client and a grpc-java Netty channel. */
public final class TestClients {
  private TestClients() {}

  /** A client TLS context trusting {@code ca}, presenting {@code cert} (none if null). */
  public static SSLContext sslContext(Path ca, Path cert, Path key) throws Exception {
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(cert == null ? null : PemFiles.keyManagerFactory(cert, key).getKeyManagers(),
        new TrustManager[] {PemFiles.trustManager(ca)}, null);
    return ssl;
  }

  public static HttpClient http(Path ca, Path cert, Path key) throws Exception {
    return HttpClient.newBuilder().sslContext(sslContext(ca, cert, key)).version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  public static ManagedChannel grpc(int port, Path ca, Path cert, Path key) throws IOException {
    SslContextBuilder b = GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.OPENSSL)
        .trustManager(PemFiles.trustManager(ca));
    if (cert != null) {
      b.keyManager(PemFiles.keyManagerFactory(cert, key));
    }
    return NettyChannelBuilder.forAddress("127.0.0.1", port).sslContext(b.build()).build();
  }

  /**
   * Exports like an OTLP client: UNAVAILABLE (back-pressure, e.g. while the first data key is
   * still on its way from a KMS) is retried, at most 100 times, 100 ms apart.
   */
  public static void exportRetrying(ManagedChannel ch, ExportTraceServiceRequest request) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc.newBlockingStub(ch)
            .withDeadlineAfter(20, java.util.concurrent.TimeUnit.SECONDS).export(request);
        return;
      } catch (io.grpc.StatusRuntimeException e) {
        if (e.getStatus().getCode() != io.grpc.Status.Code.UNAVAILABLE || attempt >= 100) {
          throw e;
        }
        Thread.sleep(100); // the client's backoff
      }
    }
  }

  /** A request with {@code spans} spans, each carrying {@code secret} as an attribute value. */
  public static ExportTraceServiceRequest request(int spans, String secret) {
    return request(spans, secret, 0);
  }

  /** As above; {@code batch} (0..255) makes the span ids distinct from other batches'. */
  public static ExportTraceServiceRequest request(int spans, String secret, int batch) {
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (int i = 0; i < spans; i++) {
      byte[] trace = new byte[16];
      byte[] span = new byte[8];
      trace[15] = (byte) (i + 1);
      trace[0] = 0x5a;
      span[7] = (byte) (i + 1);
      span[6] = (byte) batch;
      ss.addSpans(Span.newBuilder()
          .setTraceId(ByteString.copyFrom(trace))
          .setSpanId(ByteString.copyFrom(span))
          .setName("span-" + i)
          .setKind(Span.SpanKind.SPAN_KIND_SERVER)
          .setStartTimeUnixNano(1_700_000_000_000_000_000L)
          .setEndTimeUnixNano(1_700_000_000_100_000_000L)
          .addAttributes(KeyValue.newBuilder().setKey("user.token")
              .setValue(AnyValue.newBuilder().setStringValue(secret))));
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(ss)).build();
  }

  /** A metrics request: one sum with {@code points} data points, each carrying {@code secret} as an attribute value. */
  public static io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest metricsRequest(int points, String secret) {
    var sum = io.opentelemetry.proto.metrics.v1.Sum.newBuilder().setIsMonotonic(true)
        .setAggregationTemporality(io.opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
    for (int i = 0; i < points; i++) {
      sum.addDataPoints(io.opentelemetry.proto.metrics.v1.NumberDataPoint.newBuilder()
          .setTimeUnixNano(1_700_000_000_000_000_000L + i).setAsInt(i)
          .addAttributes(KeyValue.newBuilder().setKey("user.token").setValue(AnyValue.newBuilder().setStringValue(secret)))
          .addAttributes(KeyValue.newBuilder().setKey("series").setValue(AnyValue.newBuilder().setIntValue(i))));
    }
    return io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.newBuilder()
        .addResourceMetrics(io.opentelemetry.proto.metrics.v1.ResourceMetrics.newBuilder()
            .addScopeMetrics(io.opentelemetry.proto.metrics.v1.ScopeMetrics.newBuilder()
                .addMetrics(io.opentelemetry.proto.metrics.v1.Metric.newBuilder().setName("requests").setSum(sum))))
        .build();
  }

  /** A logs request with {@code records} log records, {@code secret} in each body and attribute. */
  public static io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest logsRequest(int records, String secret) {
    var scope = io.opentelemetry.proto.logs.v1.ScopeLogs.newBuilder();
    for (int i = 0; i < records; i++) {
      scope.addLogRecords(io.opentelemetry.proto.logs.v1.LogRecord.newBuilder()
          .setTimeUnixNano(1_700_000_000_000_000_000L + i)
          .setBody(AnyValue.newBuilder().setStringValue("login " + secret + " #" + i))
          .addAttributes(KeyValue.newBuilder().setKey("user.token").setValue(AnyValue.newBuilder().setStringValue(secret)))
          .addAttributes(KeyValue.newBuilder().setKey("seq").setValue(AnyValue.newBuilder().setIntValue(i))));
    }
    return io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.newBuilder()
        .addResourceLogs(io.opentelemetry.proto.logs.v1.ResourceLogs.newBuilder().addScopeLogs(scope)).build();
  }
}
