package dev.spillway.server.export;

import dev.spillway.server.receive.OtlpWire;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.config.ClientTlsSettings;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.telemetry.ServerMetrics;
import dev.spillway.server.testing.HttpDownstream;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestPki;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cutting batches to send_batch_max_size, against a real HTTPS downstream. */
class SplittingExporterTest {
  @TempDir Path dir;

  @Test
  void export_downstreamFailsMidBatch_retryResumesWithoutResendingDeliveredPieces() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    try (HttpDownstream downstream = new HttpDownstream(pki.serverCert, pki.serverKey, pki.ca)) {
      // the second request (the second piece) meets a downstream outage
      downstream.respond(n -> n == 2 ? new HttpDownstream.Answer(503, Map.of(), new byte[0]) : HttpDownstream.Answer.ok(0));
      ServerConfig.Otlp o = new ServerConfig.Otlp(URI.create("https://127.0.0.1:" + downstream.port() + "/v1/traces"),
          ServerConfig.Protocol.HTTP_PROTOBUF, Map.of(), false, Duration.ofSeconds(5),
          new ClientTlsSettings(Optional.of(pki.ca), Optional.of(pki.clientCert), Optional.of(pki.clientKey), false,
              Optional.empty()), ServerConfig.Retry.DEFAULT, 2, 0);
      byte[] batch = TestClients.request(6, "s3cret", 7).toByteArray();
      try (SplittingExporter e = new SplittingExporter(HttpExporter.create(o), 2, 0, new ServerMetrics())) {
        assertThat(e.export(OtlpWire.Signal.TRACES, batch).kind()).isEqualTo(ExportResult.Kind.RETRYABLE);
        assertThat(e.export(OtlpWire.Signal.TRACES, batch.clone()).kind()).isEqualTo(ExportResult.Kind.SUCCESS);
      }
      assertThat(downstream.requests).hasSize(4); // piece 1, piece 2 refused, piece 2, piece 3
      assertThat(downstream.requests).allMatch(r -> r.spans() == 2);
      assertThat(downstream.spanIds).hasSize(6);
    }
  }

  @Test
  void countSpans_walksTheWireFormat_matchesTheDecodedCount() {
    assertThat(OtlpRequests.count(OtlpWire.Signal.TRACES, TestClients.request(37, "x", 1).toByteArray())).isEqualTo(37);
    assertThat(OtlpRequests.count(OtlpWire.Signal.TRACES, new byte[] {(byte) 0x0a, (byte) 0xff})).isEqualTo(-1);
  }
}
