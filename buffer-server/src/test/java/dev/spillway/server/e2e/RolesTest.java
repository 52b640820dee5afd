package dev.spillway.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.testing.ChildJvm;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import io.grpc.ManagedChannel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --role ingest} and {@code serve --role drain} as two child JVMs on one spill
 * directory: the ingest process holds only writer.json and receives OTLP over mTLS, the drain
 * process holds only reader.json and exports to a downstream in this test. Every span arrives.
 */
class RolesTest {
  static final String CANARY = "CANARY-roles-8821";
  static final Duration START = Duration.ofSeconds(90);

  @TempDir Path dir;

  @Test
  void ingestAndDrainProcesses_oneSpillDirectory_everySpanArrives() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    Path spill = dir.resolve("spill");
    int downstreamPort = KmsServeTest.freePort();

    Path ingestCfg = dir.resolve("ingest.yaml");
    Files.writeString(ingestCfg, TestConfigs.daemon(pki, spill,
        TestConfigs.localKeys(keys.resolve("writer.json"), null), "", 1 << 20));
    Path drainCfg = dir.resolve("drain.yaml");
    Files.writeString(drainCfg, TestConfigs.daemon(pki, spill,
        TestConfigs.localKeys(null, keys.resolve("reader.json")),
        TestConfigs.exporter(pki, "grpc", downstreamPort), 1 << 20));
    assertThat(Files.readString(ingestCfg)).doesNotContain("reader");

    int batches = 10;
    int spans = 5;
    try (Downstream downstream = new Downstream(pki, downstreamPort);
        ChildJvm ingest = ChildJvm.start(Map.of(), "serve", "--role", "ingest", "--config", ingestCfg.toString())) {
      int[] ports = ingest.awaitReady(START);
      assertThat(ports[0]).isPositive();
      assertThat(ports[1]).isPositive();
      try (ChildJvm drain = ChildJvm.start(Map.of(), "serve", "--role", "drain", "--config", drainCfg.toString())) {
        int[] drainPorts = drain.awaitReady(START);
        assertThat(drainPorts[0]).as("drain runs no receivers").isEqualTo(-1);

        ManagedChannel ch = TestClients.grpc(ports[0], pki.ca, pki.clientCert, pki.clientKey);
        try {
          for (int b = 0; b < batches / 2; b++) {
            TestClients.exportRetrying(ch, TestClients.request(spans, CANARY, b));
          }
        } finally {
          ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        HttpClient http = TestClients.http(pki.ca, pki.clientCert, pki.clientKey);
        for (int b = batches / 2; b < batches; b++) {
          HttpResponse<byte[]> r = http.send(
              HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + ports[1] + "/v1/traces"))
                  .header("Content-Type", "application/x-protobuf")
                  .timeout(Duration.ofSeconds(20))
                  .POST(HttpRequest.BodyPublishers.ofByteArray(TestClients.request(spans, CANARY, b).toByteArray()))
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
          assertThat(r.statusCode()).isEqualTo(200);
        }

        assertThat(downstream.awaitSpans(batches * spans, Duration.ofSeconds(60)))
            .as(() -> "ingest:\n" + ingest.output() + "\ndrain:\n" + drain.output()).isTrue();
        assertThat(downstream.spanIds).hasSize(batches * spans);

        drain.terminate();
        assertThat(drain.awaitExit(Duration.ofSeconds(30))).as(drain::output).isZero();
        ingest.terminate();
        assertThat(ingest.awaitExit(Duration.ofSeconds(30))).as(ingest::output).isZero();
        assertThat(ingest.output()).contains("role ingest").doesNotContain("reader.json").doesNotContain(CANARY);
        assertThat(drain.output()).contains("role drain").doesNotContain(CANARY);
      }
    }
  }

  @Test
  void ingestProcess_givenTheReaderKeyset_exitsNonZeroWithoutListening() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    Path cfg = dir.resolve("ingest.yaml");
    Files.writeString(cfg, TestConfigs.daemon(pki, dir.resolve("spill"), keys, "", 1 << 20)); // writer AND reader
    try (ChildJvm ingest = ChildJvm.start(Map.of(), "serve", "--role", "ingest", "--config", cfg.toString())) {
      assertThat(ingest.awaitExit(START)).isEqualTo(1);
      assertThat(ingest.output())
          .contains("role ingest must not be given reader key material")
          .doesNotContain("spillway ready");
    }
  }
}
