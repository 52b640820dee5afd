package dev.spillway.server.export;

import dev.spillway.server.receive.OtlpWire;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.config.ClientTlsSettings;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.testing.HttpDownstream;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestPki;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OTLP/HTTP protobuf exporter against a real HTTPS (mTLS) OTLP/HTTP receiver. */
class HttpExporterTest {
  @TempDir Path dir;
  TestPki pki;
  HttpDownstream downstream;

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
    downstream = new HttpDownstream(pki.serverCert, pki.serverKey, pki.ca);
  }

  @AfterEach
  void tearDown() {
    downstream.close();
  }

  private HttpExporter exporter(Optional<Path> ca, Path cert, Path key, boolean gzip) throws Exception {
    ServerConfig.Otlp o = new ServerConfig.Otlp(
        URI.create("https://127.0.0.1:" + downstream.port() + "/v1/traces"),
        ServerConfig.Protocol.HTTP_PROTOBUF,
        Map.of("authorization", "Bearer t0ken"),
        gzip,
        Duration.ofSeconds(5),
        new ClientTlsSettings(ca, Optional.ofNullable(cert), Optional.ofNullable(key), false, Optional.empty()),
        ServerConfig.Retry.DEFAULT);
    return HttpExporter.create(o);
  }

  @Test
  void export_mtlsGzip_deliversProtobufWithHeadersAndClientCertificate() throws Exception {
    try (HttpExporter e = exporter(Optional.of(pki.ca), pki.clientCert, pki.clientKey, true)) {
      ExportResult r = e.export(OtlpWire.Signal.TRACES, TestClients.request(4, "s3cret", 1).toByteArray());
      assertThat(r.kind()).isEqualTo(ExportResult.Kind.SUCCESS);
      assertThat(r.rejectedItems()).isZero();
    }
    assertThat(downstream.spanIds).hasSize(4);
    HttpDownstream.Received got = downstream.requests.get(0);
    assertThat(got.spans()).isEqualTo(4);
    assertThat(got.clientSubject()).contains("CN=spillway-dev-client");
    assertThat(got.headers().get("Content-type")).containsExactly("application/x-protobuf");
    assertThat(got.headers().get("Content-encoding")).containsExactly("gzip");
    assertThat(got.headers().get("Authorization")).containsExactly("Bearer t0ken");
  }

  @Test
  void export_partialSuccess_reportsRejectedSpans() throws Exception {
    downstream.respond(n -> HttpDownstream.Answer.ok(2));
    try (HttpExporter e = exporter(Optional.of(pki.ca), pki.clientCert, pki.clientKey, false)) {
      ExportResult r = e.export(OtlpWire.Signal.TRACES, TestClients.request(5, "s3cret").toByteArray());
      assertThat(r.kind()).isEqualTo(ExportResult.Kind.SUCCESS);
      assertThat(r.rejectedItems()).isEqualTo(2);
    }
    assertThat(downstream.requests.get(0).headers()).doesNotContainKey("Content-encoding");
  }

  @Test
  void export_throttledAndInvalid_mapToRetryableWithRetryAfterAndPermanent() throws Exception {
    downstream.respond(n -> switch (n) {
      case 1 -> new HttpDownstream.Answer(429, Map.of("Retry-After", "7"), new byte[0]);
      case 2 -> new HttpDownstream.Answer(503, Map.of(), new byte[0]);
      default -> new HttpDownstream.Answer(400, Map.of(), new byte[0]);
    });
    try (HttpExporter e = exporter(Optional.of(pki.ca), pki.clientCert, pki.clientKey, true)) {
      byte[] req = TestClients.request(1, "s3cret").toByteArray();
      ExportResult throttled = e.export(OtlpWire.Signal.TRACES, req);
      assertThat(throttled.kind()).isEqualTo(ExportResult.Kind.RETRYABLE);
      assertThat(throttled.retryAfter()).contains(Duration.ofSeconds(7));
      ExportResult down = e.export(OtlpWire.Signal.TRACES, req);
      assertThat(down.kind()).isEqualTo(ExportResult.Kind.RETRYABLE);
      assertThat(down.retryAfter()).isEmpty();
      assertThat(e.export(OtlpWire.Signal.TRACES, req).kind()).isEqualTo(ExportResult.Kind.PERMANENT);
    }
    assertThat(downstream.spanIds).isEmpty();
  }

  @Test
  void export_withoutClientCertificate_refusedByTheDownstream_retryableNothingDelivered() throws Exception {
    try (HttpExporter e = exporter(Optional.of(pki.ca), null, null, true)) {
      assertThat(e.export(OtlpWire.Signal.TRACES, TestClients.request(1, "s3cret").toByteArray()).kind()).isEqualTo(ExportResult.Kind.RETRYABLE);
    }
    assertThat(downstream.requests).isEmpty();
  }

  @Test
  void export_downstreamCertificateFromAnUntrustedCa_retryableNothingSent() throws Exception {
    TestPki other = new TestPki(dir.resolve("other-pki"));
    try (HttpExporter e = exporter(Optional.of(other.ca), pki.clientCert, pki.clientKey, true)) {
      ExportResult r = e.export(OtlpWire.Signal.TRACES, TestClients.request(1, "s3cret").toByteArray());
      assertThat(r.kind()).isEqualTo(ExportResult.Kind.RETRYABLE);
      assertThat(r.reason()).doesNotContain("s3cret");
    }
    assertThat(downstream.requests).isEmpty();
  }
}
