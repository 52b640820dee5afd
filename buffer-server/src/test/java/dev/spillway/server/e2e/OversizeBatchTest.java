package dev.spillway.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.BufferOpener;
import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.testing.HttpDownstream;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import io.grpc.ManagedChannel;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #14's poison batch: the daemon accepts 15 MiB requests, the downstream only 4 MiB (a
 * grpc-java server with maxInboundMessageSize; an HTTPS server answering 413). One span with a
 * 6 MB attribute, sent in a batch with normal spans, then 1,000 normal spans: all normal spans
 * arrive, the oversize one is dropped and counted, and nothing waits behind it.
 */
class OversizeBatchTest {
  static final int LIMIT = 4 << 20;
  static final int NORMAL = 1_000;
  static final Duration DELIVERY = Duration.ofSeconds(90);
  static final byte[] BIG_SPAN_ID = {(byte) 0xb1, 0x9, 0, 0, 0, 0, 0, 1};

  @TempDir Path dir;

  @Test
  void grpcDownstream4MiB_oversizeSpanAmongNormalOnes_normalDeliveredOversizeDroppedAndCounted() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    int port = KmsServeTest.freePort();
    // Default send_batch_max_bytes (4 MiB): the batch is cut before sending, the big span alone
    // is refused with RESOURCE_EXHAUSTED.
    try (Downstream downstream = new Downstream(pki, port, LIMIT);
        Daemon daemon = daemon(pki, TestConfigs.exporter(pki, "grpc", port) + "    compression: none\n")) {
      send(daemon, pki);
      assertThat(downstream.awaitSpans(NORMAL + 6, DELIVERY)).as("every normal span delivered").isTrue();
      assertThat(downstream.spanIds).doesNotContain(HexFormat.of().formatHex(BIG_SPAN_ID));
      awaitDroppedTooLarge(daemon);
      assertThat(daemon.metrics().spansExported.sum()).isEqualTo(NORMAL + 6);
    }
  }

  @Test
  void httpDownstream413_noRequestSizeConfigured_splitsOnRefusalAndDropsOnlyTheOversizeSpan() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    try (HttpDownstream downstream = new HttpDownstream(pki.serverCert, pki.serverKey, pki.ca)) {
      downstream.maxBodyBytes(LIMIT);
      // send_batch_max_bytes: 0: the batch goes whole, is refused with 413, and is halved until
      // only the big span is refused.
      String exporter = TestConfigs.exporter(pki, "http/protobuf", downstream.port())
          + "    compression: none\n    send_batch_max_bytes: 0\n";
      try (Daemon daemon = daemon(pki, exporter)) {
        send(daemon, pki);
        assertThat(downstream.awaitSpans(NORMAL + 6, DELIVERY)).as("every normal span delivered").isTrue();
        assertThat(downstream.spanIds).doesNotContain(HexFormat.of().formatHex(BIG_SPAN_ID));
        awaitDroppedTooLarge(daemon);
        assertThat(downstream.bodiesTooLarge.get()).as("the split was driven by 413s").isGreaterThanOrEqualTo(2);
        assertThat(daemon.metrics().spansExported.sum()).isEqualTo(NORMAL + 6);
      }
    }
  }

  private Daemon daemon(TestPki pki, String exporter) throws Exception {
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    String yaml = TestConfigs.daemon(pki, dir.resolve("spill"), keys, exporter, 15 << 20);
    return Daemon.start(TestConfigs.load(dir, yaml), Role.BOTH, BufferOpener.spillBuffer());
  }

  /** The mixed batch (3 normal, the big one, 3 normal), then 1,000 normal spans in 10 requests. */
  private static void send(Daemon daemon, TestPki pki) throws Exception {
    ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, pki.clientCert, pki.clientKey);
    try {
      ExportTraceServiceRequest first = TestClients.request(6, "normal", 200);
      ScopeSpans.Builder scope = first.getResourceSpans(0).getScopeSpans(0).toBuilder();
      scope.addSpans(3, bigSpan());
      TestClients.exportRetrying(ch, ExportTraceServiceRequest.newBuilder()
          .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(scope)).build());
      for (int b = 0; b < 10; b++) {
        TestClients.exportRetrying(ch, TestClients.request(NORMAL / 10, "normal", b));
      }
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** A span with a 6 MB attribute of random (incompressible) text. */
  private static Span bigSpan() {
    byte[] random = new byte[4_500_000];
    new Random(14).nextBytes(random);
    String value = Base64.getEncoder().encodeToString(random); // 6,000,000 characters
    byte[] trace = new byte[16];
    trace[0] = (byte) 0xb1;
    trace[15] = 1;
    return Span.newBuilder()
        .setTraceId(ByteString.copyFrom(trace))
        .setSpanId(ByteString.copyFrom(BIG_SPAN_ID))
        .setName("oversize")
        .setStartTimeUnixNano(1_700_000_000_000_000_000L)
        .setEndTimeUnixNano(1_700_000_000_100_000_000L)
        .addAttributes(KeyValue.newBuilder().setKey("blob").setValue(AnyValue.newBuilder().setStringValue(value)))
        .build();
  }

  /** Counters move once the drain settled a batch, just after the downstream saw its spans. */
  private static void awaitDroppedTooLarge(Daemon daemon) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while ((daemon.metrics().spansDroppedTooLarge.sum() == 0 || daemon.metrics().spansExported.sum() < NORMAL + 6)
        && System.nanoTime() < deadline) {
      Thread.sleep(50); // polling counters the drain thread sets; there is no event to wait on
    }
    assertThat(daemon.metrics().spansDroppedTooLarge.sum()).isEqualTo(1);
    assertThat(daemon.metrics().render())
        .contains("spillway_spans_dropped_total{reason=\"too_large_for_downstream\"} 1")
        .contains("spillway_spans_dropped_total{reason=\"rejected_by_downstream\"} 0");
  }
}
