package dev.spillway.server.drain;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import dev.spillway.core.PayloadType;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.export.OtlpExporter;
import dev.spillway.server.telemetry.ServerMetrics;
import dev.spillway.server.testing.InMemoryBuffer;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import dev.spillway.server.tls.PemFiles;
import io.grpc.Server;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The drain loop and the gRPC exporter against a real mTLS downstream that answers as told. */
class DrainLoopTest {
  @TempDir Path dir;
  TestPki pki;
  Server downstream;
  final Deque<Function<ExportTraceServiceRequest, Object>> answers = new ArrayDeque<>();
  final CountDownLatch calls = new CountDownLatch(1_000);
  volatile long firstCallNanos;
  volatile long secondCallNanos;
  int callCount;

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
    var ssl = GrpcSslContexts.configure(
            SslContextBuilder.forServer(PemFiles.keyManagerFactory(pki.serverCert, pki.serverKey)), SslProvider.OPENSSL)
        .trustManager(PemFiles.trustManager(pki.ca)).clientAuth(ClientAuth.REQUIRE).build();
    downstream = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).sslContext(ssl)
        .addService(new TraceServiceGrpc.TraceServiceImplBase() {
          @Override
          public void export(ExportTraceServiceRequest r, StreamObserver<ExportTraceServiceResponse> out) {
            Function<ExportTraceServiceRequest, Object> a;
            synchronized (answers) {
              callCount++;
              if (callCount == 1) {
                firstCallNanos = System.nanoTime();
              } else if (callCount == 2) {
                secondCallNanos = System.nanoTime();
              }
              a = answers.isEmpty() ? x -> ExportTraceServiceResponse.getDefaultInstance() : answers.poll();
            }
            Object o = a.apply(r);
            if (o instanceof Throwable t) {
              out.onError(t);
            } else {
              out.onNext((ExportTraceServiceResponse) o);
              out.onCompleted();
            }
            calls.countDown();
          }
        }).build().start();
  }

  @AfterEach
  void tearDown() throws Exception {
    downstream.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private ServerConfig.Otlp otlp(String retry) throws Exception {
    String yaml = TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"),
        "exporters:\n  otlp:\n    endpoint: https://127.0.0.1:" + downstream.getPort() + "\n"
            + "    tls:\n      ca_file: " + pki.ca + "\n      cert_file: " + pki.clientCert + "\n"
            + "      key_file: " + pki.clientKey + "\n" + retry, 1 << 20);
    return TestConfigs.load(dir, yaml).exporter().otlp().orElseThrow();
  }

  private static final String FAST =
      "    retry_on_failure:\n      initial_interval: 10ms\n      max_interval: 50ms\n      max_elapsed_time: 500ms\n";

  private void await(java.util.function.BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!done.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(10); // bounded poll of the drain thread's progress
    }
    assertThat(done.getAsBoolean()).isTrue();
  }

  @Test
  void partialSuccess_rejectedItemsCountedNotRetried() throws Exception {
    answers.add(r -> ExportTraceServiceResponse.newBuilder()
        .setPartialSuccess(ExportTracePartialSuccess.newBuilder().setRejectedSpans(2).setErrorMessage("too old")).build());
    InMemoryBuffer buffer = new InMemoryBuffer(10);
    buffer.offer(PayloadType.OTLP_TRACES, TestClients.request(5, "x").toByteArray());
    ServerMetrics m = new ServerMetrics();
    ServerConfig.Otlp o = otlp(FAST);
    try (OtlpExporter ex = OtlpExporter.create(new ServerConfig.Exporter(java.util.Optional.of(o)));
        DrainLoop loop = new DrainLoop(buffer, ex, o.retry(), m)) {
      loop.start();
      await(() -> buffer.acked.get() == 1);
    }
    assertThat(m.spansExported.sum()).isEqualTo(3);
    assertThat(m.spansRejectedDownstream.sum()).isEqualTo(2);
    assertThat(callCount).isEqualTo(1);
  }

  @Test
  void unavailableWithRetryInfo_waitsTheHintedDelayThenDelivers() throws Exception {
    answers.add(r -> StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(Code.UNAVAILABLE.getNumber())
        .addDetails(Any.pack(RetryInfo.newBuilder()
            .setRetryDelay(com.google.protobuf.Duration.newBuilder().setNanos(300_000_000)).build())).build()));
    InMemoryBuffer buffer = new InMemoryBuffer(10);
    buffer.offer(PayloadType.OTLP_TRACES, TestClients.request(4, "x").toByteArray());
    ServerMetrics m = new ServerMetrics();
    ServerConfig.Otlp o = otlp("    retry_on_failure:\n      initial_interval: 10ms\n      max_interval: 50ms\n"
        + "      max_elapsed_time: 5s\n");
    try (OtlpExporter ex = OtlpExporter.create(new ServerConfig.Exporter(java.util.Optional.of(o)));
        DrainLoop loop = new DrainLoop(buffer, ex, o.retry(), m)) {
      loop.start();
      await(() -> buffer.acked.get() == 1);
    }
    assertThat(m.spansExported.sum()).isEqualTo(4);
    assertThat(m.exportRetries.sum()).isEqualTo(1);
    assertThat(TimeUnit.NANOSECONDS.toMillis(secondCallNanos - firstCallNanos)).isGreaterThanOrEqualTo(290);
  }

  @Test
  void invalidArgument_droppedAndCounted() throws Exception {
    answers.add(r -> io.grpc.Status.INVALID_ARGUMENT.withDescription("bad").asRuntimeException());
    InMemoryBuffer buffer = new InMemoryBuffer(10);
    buffer.offer(PayloadType.OTLP_TRACES, TestClients.request(3, "x").toByteArray());
    ServerMetrics m = new ServerMetrics();
    ServerConfig.Otlp o = otlp(FAST);
    try (OtlpExporter ex = OtlpExporter.create(new ServerConfig.Exporter(java.util.Optional.of(o)));
        DrainLoop loop = new DrainLoop(buffer, ex, o.retry(), m)) {
      loop.start();
      await(() -> buffer.acked.get() == 1);
    }
    assertThat(m.spansDroppedPermanent.sum()).isEqualTo(3);
    assertThat(m.spansExported.sum()).isZero();
  }

  @Test
  void downstreamFailingPastMaxElapsed_batchReleasedNotDropped_thenDelivered() throws Exception {
    for (int i = 0; i < 1_000; i++) {
      answers.add(r -> io.grpc.Status.UNAVAILABLE.withDescription("down").asRuntimeException());
    }
    InMemoryBuffer buffer = new InMemoryBuffer(10);
    buffer.offer(PayloadType.OTLP_TRACES, TestClients.request(2, "x").toByteArray());
    ServerMetrics m = new ServerMetrics();
    ServerConfig.Otlp o = otlp(FAST);
    try (OtlpExporter ex = OtlpExporter.create(new ServerConfig.Exporter(java.util.Optional.of(o)));
        DrainLoop loop = new DrainLoop(buffer, ex, o.retry(), m)) {
      loop.start();
      await(() -> m.exportFailures.sum() >= 1);
      assertThat(buffer.acked.get()).isZero();
      synchronized (answers) {
        answers.clear(); // the downstream recovers
      }
      await(() -> buffer.acked.get() == 1);
    }
    assertThat(m.spansExported.sum()).isEqualTo(2);
    assertThat(m.spansDroppedPermanent.sum() + m.spansRejectedDownstream.sum()).isZero();
    assertThat(buffer.size()).isZero();
  }
}
