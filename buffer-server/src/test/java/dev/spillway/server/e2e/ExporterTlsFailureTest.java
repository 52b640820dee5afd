package dev.spillway.server.e2e;

import dev.spillway.server.receive.OtlpWire;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.config.ClientTlsSettings;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.export.ExportResult;
import dev.spillway.server.export.OtlpExporter;
import dev.spillway.server.testing.HttpDownstream;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestPki;
import dev.spillway.server.tls.DevCertificates;
import dev.spillway.server.tls.PemFiles;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A downstream the exporter cannot trust says why, for gRPC ("UNAVAILABLE: io exception" alone
 * before) and HTTP ("SSLHandshakeException" alone before): unknown CA, expired certificate, name
 * mismatch. Real downstreams with real certificates.
 */
class ExporterTlsFailureTest {
  @TempDir Path dir;

  private static ExportResult exportOnce(ServerConfig.Protocol protocol, URI endpoint, Path ca, TestPki client,
      Optional<String> serverName) throws Exception {
    ServerConfig.Otlp o = new ServerConfig.Otlp(endpoint, protocol, Map.of(), false, Duration.ofSeconds(5),
        new ClientTlsSettings(Optional.of(ca), Optional.of(client.clientCert), Optional.of(client.clientKey), false,
            serverName),
        ServerConfig.Retry.DEFAULT);
    try (OtlpExporter e = OtlpExporter.create(new ServerConfig.Exporter(Optional.of(o)))) {
      return e.export(OtlpWire.Signal.TRACES, TestClients.request(2, "s3cret").toByteArray());
    }
  }

  /** A PKI whose server certificate expired yesterday. */
  private TestPki expiredServer(Path at) throws Exception {
    TestPki pki = new TestPki(at);
    var caCert = PemFiles.certificates(pki.ca).get(0);
    var ca = new DevCertificates.Authority(caCert, new KeyPair(caCert.getPublicKey(), PemFiles.privateKey(at.resolve("ca.key"))));
    KeyPair kp = DevCertificates.keyPair();
    Instant now = Instant.now();
    Files.delete(pki.serverCert);
    Files.delete(pki.serverKey);
    DevCertificates.writePem(pki.serverCert,
        DevCertificates.sign(ca, "localhost", kp, true, now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1))), false);
    DevCertificates.writeKey(pki.serverKey, kp);
    return pki;
  }

  @Test
  void grpcExport_downstreamFromAnotherCa_saysUnknownCa() throws Exception {
    TestPki pki = new TestPki(dir.resolve("a"));
    TestPki other = new TestPki(dir.resolve("b"));
    int port = KmsServeTest.freePort();
    try (Downstream d = new Downstream(pki, port)) {
      ExportResult r = exportOnce(ServerConfig.Protocol.GRPC, URI.create("https://127.0.0.1:" + port), other.ca, pki,
          Optional.empty());
      assertThat(r.kind()).isEqualTo(ExportResult.Kind.RETRYABLE);
      assertThat(r.reason()).startsWith("grpc UNAVAILABLE").contains("unknown CA");
    }
  }

  @Test
  void grpcExport_serverNameNotInCertificate_saysNameMismatch() throws Exception {
    TestPki pki = new TestPki(dir.resolve("a"));
    int port = KmsServeTest.freePort();
    try (Downstream d = new Downstream(pki, port)) {
      ExportResult r = exportOnce(ServerConfig.Protocol.GRPC, URI.create("https://127.0.0.1:" + port), pki.ca, pki,
          Optional.of("wrong.example"));
      assertThat(r.reason()).contains("name mismatch");
    }
  }

  @Test
  void grpcExport_expiredServerCertificate_saysExpired() throws Exception {
    TestPki pki = expiredServer(dir.resolve("x"));
    int port = KmsServeTest.freePort();
    try (Downstream d = new Downstream(pki, port)) {
      ExportResult r = exportOnce(ServerConfig.Protocol.GRPC, URI.create("https://127.0.0.1:" + port), pki.ca, pki,
          Optional.empty());
      assertThat(r.reason()).contains("expired");
    }
  }

  @Test
  void httpExport_downstreamFromAnotherCa_saysUnknownCa() throws Exception {
    TestPki pki = new TestPki(dir.resolve("a"));
    TestPki other = new TestPki(dir.resolve("b"));
    try (HttpDownstream d = new HttpDownstream(pki.serverCert, pki.serverKey, pki.ca)) {
      ExportResult r = exportOnce(ServerConfig.Protocol.HTTP_PROTOBUF,
          URI.create("https://127.0.0.1:" + d.port() + "/v1/traces"), other.ca, pki, Optional.empty());
      assertThat(r.reason()).startsWith("http: ").contains("unknown CA");
    }
  }

  @Test
  void httpExport_expiredServerCertificate_saysExpired() throws Exception {
    TestPki pki = expiredServer(dir.resolve("x"));
    try (HttpDownstream d = new HttpDownstream(pki.serverCert, pki.serverKey, pki.ca)) {
      ExportResult r = exportOnce(ServerConfig.Protocol.HTTP_PROTOBUF,
          URI.create("https://127.0.0.1:" + d.port() + "/v1/traces"), pki.ca, pki, Optional.empty());
      assertThat(r.reason()).contains("expired");
    }
  }
}
