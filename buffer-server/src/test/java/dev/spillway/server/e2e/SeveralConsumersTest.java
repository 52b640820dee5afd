package dev.spillway.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.BufferOpener;
import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import dev.spillway.server.tls.PemFiles;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sending_queue.num_consumers} in the real daemon: several exports in flight to a healthy
 * downstream, every span delivered exactly once, and every batch acknowledged (a restart on the
 * same durable spill delivers nothing again, so the ledger committed past all of them although
 * they were acknowledged out of order). How much faster several consumers deliver is a benchmark
 * figure (docs/BENCHMARKS.md), not asserted here.
 */
class SeveralConsumersTest {
  static final int BATCHES = 40;
  static final int SPANS_PER_BATCH = 25;
  static final int SPANS = BATCHES * SPANS_PER_BATCH;
  static final Duration DELIVERY = Duration.ofSeconds(60);
  /** How long the first export waits for a second one beside it: well within the 10 s export timeout. */
  static final Duration OVERLAP_WAIT = Duration.ofSeconds(3);

  @TempDir Path dir;

  @Test
  void fourConsumers_healthyDownstreamWithLatency_exportsOverlapEverySpanOnceNothingRedeliveredAfterRestart()
      throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    int port = KmsServeTest.freePort();
    String yaml = TestConfigs.daemon(pki, dir.resolve("spill"), keys,
            TestConfigs.exporter(pki, "grpc", port) + "    sending_queue:\n      num_consumers: 4\n", 4 << 20)
        .replace("buffer:\n", "buffer:\n  durability: durable\n");
    try (SlowDownstream downstream = new SlowDownstream(pki, port, Duration.ofMillis(20))) {
      try (Daemon daemon = Daemon.start(TestConfigs.load(dir, yaml), Role.BOTH, BufferOpener.spillBuffer())) {
        ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, pki.clientCert, pki.clientKey);
        try {
          for (int b = 0; b < BATCHES; b++) {
            TestClients.exportRetrying(ch, TestClients.request(SPANS_PER_BATCH, "s3cret", b));
          }
        } finally {
          ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        assertThat(downstream.awaitDeliveries(SPANS, DELIVERY)).as("every span delivered").isTrue();
        awaitExportedCounter(daemon, SPANS);
        assertThat(downstream.maxInFlight.get()).as("exports in flight at once").isGreaterThanOrEqualTo(2);
        assertThat(downstream.deliveries).hasSize(SPANS);
        assertThat(downstream.deliveries.values()).as("deliveries per span").allMatch(n -> n.get() == 1);
        assertThat(daemon.metrics().render()).contains("spillway_buffer_disk_batches_pending 0");
      }
      // The same spill again: the ledger committed past every acknowledged batch, so nothing comes.
      try (Daemon again = Daemon.start(TestConfigs.load(dir, yaml), Role.BOTH, BufferOpener.spillBuffer())) {
        assertThat(downstream.awaitDeliveries(SPANS + 1, Duration.ofSeconds(3)))
            .as("a span delivered again after the restart").isFalse();
        assertThat(again.metrics().spansExported.sum()).isZero();
      }
    }
  }

  /** The exporter counters move just after the downstream answered the last batch. */
  private static void awaitExportedCounter(Daemon daemon, long n) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (daemon.metrics().spansExported.sum() < n && System.nanoTime() < deadline) {
      Thread.sleep(20); // a counter the drain threads set; there is no event to wait on
    }
    assertThat(daemon.metrics().spansExported.sum()).isEqualTo(n);
  }

  /**
   * An OTLP/gRPC downstream with mTLS that answers each export after {@code latency}, counts
   * deliveries per span id and the exports in flight at once. Its first export waits (bounded) for
   * a second one to arrive beside it, so a drain that exports one batch at a time shows as one in
   * flight however the machine schedules the test.
   */
  static final class SlowDownstream implements AutoCloseable {
    final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();
    final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong delivered = new AtomicLong();
    private final CountDownLatch second = new CountDownLatch(1);
    private final java.util.concurrent.atomic.AtomicBoolean firstWaited = new java.util.concurrent.atomic.AtomicBoolean();
    private final Server server;

    SlowDownstream(TestPki pki, int port, Duration latency) throws Exception {
      var ssl = GrpcSslContexts.configure(
              SslContextBuilder.forServer(PemFiles.keyManagerFactory(pki.serverCert, pki.serverKey)),
              SslProvider.OPENSSL)
          .trustManager(PemFiles.trustManager(pki.ca))
          .clientAuth(ClientAuth.REQUIRE)
          .build();
      server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
          .sslContext(ssl)
          .addService(new TraceServiceGrpc.TraceServiceImplBase() {
            @Override
            public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> out) {
              int now = inFlight.incrementAndGet();
              maxInFlight.accumulateAndGet(now, Math::max);
              try {
                if (now >= 2) {
                  second.countDown();
                } else if (firstWaited.compareAndSet(false, true)) {
                  second.await(OVERLAP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                }
                Thread.sleep(latency.toMillis()); // the downstream's own work
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              for (ResourceSpans rs : request.getResourceSpansList()) {
                for (ScopeSpans ss : rs.getScopeSpansList()) {
                  for (Span s : ss.getSpansList()) {
                    deliveries.computeIfAbsent(HexFormat.of().formatHex(s.getSpanId().toByteArray()),
                        k -> new AtomicInteger()).incrementAndGet();
                    delivered.incrementAndGet();
                  }
                }
              }
              inFlight.decrementAndGet();
              synchronized (delivered) {
                delivered.notifyAll();
              }
              out.onNext(ExportTraceServiceResponse.getDefaultInstance());
              out.onCompleted();
            }
          })
          .build()
          .start();
    }

    /** Waits until {@code n} span deliveries (duplicates included) arrived; false after {@code timeout}. */
    boolean awaitDeliveries(long n, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      synchronized (delivered) {
        while (delivered.get() < n) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          TimeUnit.NANOSECONDS.timedWait(delivered, left);
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
}
