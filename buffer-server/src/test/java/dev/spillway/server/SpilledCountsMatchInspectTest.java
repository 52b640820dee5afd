package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.receive.OtlpWire;
import dev.spillway.server.telemetry.ServerMetrics;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import io.grpc.ManagedChannel;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #14's metrics consistency, per signal: after an outage run in which batches first sit in
 * memory and are sealed to disk later (at shutdown), {@code spillway_items_spilled_total} equals
 * what {@code spill inspect} counts in the spill, for traces, metrics and logs.
 */
class SpilledCountsMatchInspectTest {
  @TempDir Path dir;

  @Test
  void outage_batchesMovedFromMemoryToDisk_spilledCountsEqualSpillInspectsItems() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    Path spill = dir.resolve("spill");
    int down;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      down = s.getLocalPort(); // nothing listens there: the downstream is down all along
    }
    // Memory first (8 MiB): every batch is held in memory on arrival; closing seals them to disk.
    String yaml = TestConfigs.daemon(pki, spill, keys, TestConfigs.exporter(pki, "grpc", down), 4 << 20);
    ServerMetrics m;
    try (Daemon daemon = Daemon.start(TestConfigs.load(dir, yaml), Role.BOTH, BufferOpener.spillBuffer())) {
      m = daemon.metrics();
      ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, pki.clientCert, pki.clientKey);
      try {
        for (int b = 0; b < 5; b++) {
          TestClients.exportRetrying(ch, TestClients.request(10, "v", b));
        }
        for (int b = 0; b < 4; b++) {
          MetricsServiceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
              .export(TestClients.metricsRequest(7, "v"));
        }
        for (int b = 0; b < 3; b++) {
          LogsServiceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
              .export(TestClients.logsRequest(9, "v"));
        }
      } finally {
        ch.shutdownNow();
      }
      assertThat(m.signal(OtlpWire.Signal.TRACES).received.sum()).isEqualTo(50);
      assertThat(m.signal(OtlpWire.Signal.TRACES).spilled.sum()).as("held in memory, not spilled yet").isLessThan(50);
    }
    assertThat(m.signal(OtlpWire.Signal.TRACES).spilled.sum()).isEqualTo(50);
    assertThat(m.signal(OtlpWire.Signal.METRICS).spilled.sum()).isEqualTo(28);
    assertThat(m.signal(OtlpWire.Signal.LOGS).spilled.sum()).isEqualTo(27);
    assertThat(m.render()).contains("spillway_spans_spilled_total 50.0")
        .contains("spillway_items_spilled_total{signal=\"metrics\"} 28.0");

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code = Main.run(new String[] {"spill", "inspect", "--dir", spill.toString(),
        "--reader-key", keys.resolve(LocalKeys.READER_FILE).toString()},
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(out, true, StandardCharsets.UTF_8));
    String printed = out.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isZero();
    assertThat(printed).contains("items: traces " + m.signal(OtlpWire.Signal.TRACES).spilled.sum() + " spans in ")
        .contains("metrics " + m.signal(OtlpWire.Signal.METRICS).spilled.sum() + " data points in ")
        .contains("logs " + m.signal(OtlpWire.Signal.LOGS).spilled.sum() + " log records in ");
  }
}
