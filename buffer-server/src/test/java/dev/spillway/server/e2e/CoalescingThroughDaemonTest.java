package dev.spillway.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.BufferOpener;
import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.testing.Diagnostics;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.AutoconfiguredSdk;
import dev.spillway.server.testing.TestPki;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coalescing on, end to end: several real OpenTelemetry Java SDKs at once, each exporting small
 * batches (10 spans) over mTLS gRPC to the daemon, every record sealed to disk (memory limit 0)
 * and synced (fsync: every-batch),
 * drained to a real downstream. Every span the SDKs had acknowledged arrives, each exactly once,
 * and the daemon stored fewer records than it answered requests (so requests were combined).
 */
class CoalescingThroughDaemonTest {
  static final int SDKS = 8;
  static final int SPANS_PER_SDK = 400;
  static final int TOTAL = SDKS * SPANS_PER_SDK;

  @TempDir Path dir;

  @Test
  void manySmallConcurrentExports_everyAcknowledgedSpanArrivesOnce_inFewerRecords() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    int downstreamPort = freePort();
    String yaml = TestConfigs.daemon(pki, dir.resolve("spill"), keys, TestConfigs.exporter(pki, "grpc", downstreamPort),
            4 << 20)
        .replace("limit_mib: 8", "limit_mib: 0")
        // Each record waits for the disk, as with durable settings: offers overlap, so groups form
        // on a quiet machine as on a busy one.
        .replace("    max_disk_mib: 64\n", "    max_disk_mib: 64\n    fsync: every-batch\n")
        .replace("  spill:\n", "  coalesce:\n    window: 5ms\n    max_request_bytes: 65536\n  spill:\n");
    ExecutorService pool = Executors.newFixedThreadPool(SDKS);
    try (Downstream downstream = new Downstream(pki, downstreamPort);
        Daemon daemon = Daemon.start(TestConfigs.load(dir, yaml), Role.BOTH, BufferOpener.spillBuffer())) {
      Set<String> sent = ConcurrentHashMap.newKeySet();
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Boolean>> flushed = new ArrayList<>();
      for (int s = 0; s < SDKS; s++) {
        int sdkIndex = s;
        flushed.add(pool.submit(() -> {
          OpenTelemetrySdk sdk = sdk(daemon.grpcPort(), pki, sdkIndex);
          try {
            Tracer tracer = sdk.getTracer("coalesce-e2e");
            assertThat(start.await(30, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < SPANS_PER_SDK; i++) {
              Span span = tracer.spanBuilder("sdk" + sdkIndex + "-op" + i).startSpan();
              span.end();
              sent.add(span.getSpanContext().getSpanId());
              if (i % 10 == 9) {
                Thread.sleep(1); // a request's worth at a time, as a small service exports
              }
            }
            // Success only when every export of this SDK was acknowledged by the daemon.
            return sdk.getSdkTracerProvider().forceFlush().join(60, TimeUnit.SECONDS).isSuccess();
          } finally {
            sdk.shutdown().join(10, TimeUnit.SECONDS);
          }
        }));
      }
      start.countDown();
      for (Future<Boolean> f : flushed) {
        assertThat(f.get(120, TimeUnit.SECONDS)).as("the SDK's exports were all acknowledged").isTrue();
      }
      assertThat(sent).hasSize(TOTAL);
      assertThat(daemon.metrics().spansReceived.sum()).isEqualTo(TOTAL);
      assertThat(daemon.metrics().spansRefused.sum()).isZero();

      boolean all = downstream.awaitSpans(TOTAL, Duration.ofSeconds(60));
      assertThat(all).as(() -> downstream.spanIds.size() + " of " + TOTAL + " spans arrived" + Diagnostics.of(daemon))
          .isTrue();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (daemon.metrics().spansExported.sum() < TOTAL && System.nanoTime() < deadline) {
        Thread.sleep(10); // the downstream counts before its answer reaches the daemon; 10 s at most
      }
      assertThat(downstream.spanIds).containsExactlyInAnyOrderElementsOf(sent);
      assertThat(downstream.spansArrived.get()).as("no span delivered twice").isEqualTo(TOTAL);
      assertThat(daemon.metrics().spansExported.sum()).isEqualTo(TOTAL);

      String prom = daemon.metrics().render();
      long requests = (long) value(prom,
          "spillway_receiver_requests_total{outcome=\"ok\",signal=\"traces\",transport=\"grpc\"}");
      long records = (long) value(prom, "spillway_buffer_batches_offered_total");
      assertThat(requests).as("requests of at most 10 spans").isGreaterThanOrEqualTo(TOTAL / 10);
      assertThat(records).as("records stored for %d requests", requests).isLessThan(requests);
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  private static double value(String prom, String series) {
    for (String line : prom.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    throw new AssertionError(series + " is not in the metrics");
  }

  /** The SDK as the article configures it, exporting every 10 spans. */
  private static OpenTelemetrySdk sdk(int port, TestPki pki, int index) {
    return AutoconfiguredSdk.toDaemon(port, "grpc", pki, Map.of(
        "otel.service.name", "coalesce-e2e-" + index,
        "otel.bsp.schedule.delay", "5",
        "otel.bsp.max.export.batch.size", "10"));
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
