package dev.spillway.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.SpillInspection;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.testing.ChildJvm;
import dev.spillway.server.testing.HttpDownstream;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM in memory-first mode with the downstream down: the batches that only memory held are
 * sealed to disk, the process exits 0, {@link SpillInspection} finds every batch and opens it with
 * the reader key, and a restart delivers every span (over the OTLP/HTTP protobuf exporter).
 */
class SigtermSealTest {
  static final String CANARY = "CANARY-sigterm-3307";
  static final Duration START = Duration.ofSeconds(90);

  @TempDir Path dir;

  @Test
  void sigterm_memoryFirst_downstreamDown_sealsBatchesToDisk_restartDeliversThem() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    Path spill = dir.resolve("spill");
    int downstreamPort = KmsServeTest.freePort(); // nothing listens there yet
    Path cfg = dir.resolve("spillway.yaml");
    Files.writeString(cfg, TestConfigs.daemon(pki, spill, keys,
        TestConfigs.exporter(pki, "http/protobuf", downstreamPort), 1 << 20)); // limit_mib 8: memory-first
    assertThat(Files.readString(cfg)).contains("limit_mib: 8").doesNotContain("durability");

    int batches = 6;
    int spans = 3;
    try (ChildJvm daemon = ChildJvm.start(Map.of(), "serve", "--config", cfg.toString())) {
      int[] ports = daemon.awaitReady(START);
      ManagedChannel ch = TestClients.grpc(ports[0], pki.ca, pki.clientCert, pki.clientKey);
      try {
        for (int b = 0; b < batches; b++) {
          TestClients.exportRetrying(ch, TestClients.request(spans, CANARY, b));
        }
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      daemon.terminate();
      assertThat(daemon.awaitExit(Duration.ofSeconds(30))).as(daemon::output).isZero();
      assertThat(daemon.output()).contains("sealing what memory holds to disk").contains("stopped");
    }

    SpillInspection.Report report = SpillInspection.inspect(spill,
        LocalKeys.unwrapper(keys.resolve("reader.json")), SpillBufferBuilder.DEFAULT_QUEUE_NAME);
    assertThat(report.batches()).isEqualTo(batches);
    assertThat(report.opened()).isEqualTo(batches);
    assertThat(report.verified()).isTrue();
    assertThat(SdkThroughDaemonTest.filesContaining(spill, CANARY)).isEmpty();

    try (HttpDownstream downstream = new HttpDownstream(pki.serverCert, pki.serverKey, pki.ca, downstreamPort);
        ChildJvm daemon = ChildJvm.start(Map.of(), "serve", "--config", cfg.toString())) {
      daemon.awaitReady(START);
      assertThat(downstream.awaitSpans(batches * spans, Duration.ofSeconds(60))).as(daemon::output).isTrue();
      assertThat(downstream.spanIds).hasSize(batches * spans);
      daemon.terminate();
      assertThat(daemon.awaitExit(Duration.ofSeconds(30))).isZero();
    }
  }
}
