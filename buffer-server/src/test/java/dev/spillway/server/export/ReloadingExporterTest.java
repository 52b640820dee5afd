package dev.spillway.server.export;

import dev.spillway.server.receive.OtlpWire;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.config.ClientTlsSettings;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.testing.HttpDownstream;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestPki;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exporter's client certificate rotated on disk while the daemon runs (cert-manager, Vault
 * agent): the next export after the check interval presents the new certificate to the real mTLS
 * downstream, without a restart; files that do not load keep the old certificate in use.
 */
class ReloadingExporterTest {
  @TempDir Path dir;
  TestPki pki;
  HttpDownstream downstream;
  Path cert;
  Path key;

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
    downstream = new HttpDownstream(pki.serverCert, pki.serverKey, pki.ca);
    cert = dir.resolve("client.crt");
    key = dir.resolve("client.key");
    Files.copy(pki.clientCert, cert);
    Files.copy(pki.clientKey, key);
  }

  @AfterEach
  void tearDown() {
    downstream.close();
  }

  private ReloadingExporter exporter() throws Exception {
    ServerConfig.Otlp o = new ServerConfig.Otlp(
        URI.create("https://127.0.0.1:" + downstream.port() + "/v1/traces"),
        ServerConfig.Protocol.HTTP_PROTOBUF,
        Map.of(),
        false,
        Duration.ofSeconds(5),
        new ClientTlsSettings(Optional.of(pki.ca), Optional.of(cert), Optional.of(key), false, Optional.empty()),
        ServerConfig.Retry.DEFAULT);
    // interval 0: every export compares the files (the daemon uses CHECK_INTERVAL)
    return new ReloadingExporter(() -> HttpExporter.create(o), List.of(pki.ca, cert, key), Duration.ZERO,
        Clock.systemUTC());
  }

  /** Replaces the files as a rotation does, with a later modification time than before. */
  private void replace(Path newCert, Path newKey, int secondsLater) throws Exception {
    FileTime later = FileTime.from(Instant.now().plusSeconds(secondsLater));
    Files.copy(newCert, cert, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(newKey, key, StandardCopyOption.REPLACE_EXISTING);
    Files.setLastModifiedTime(cert, later);
    Files.setLastModifiedTime(key, later);
  }

  private String lastClientSubject() {
    return downstream.requests.get(downstream.requests.size() - 1).clientSubject();
  }

  @Test
  void rotatedClientCertificate_nextExportPresentsItWithoutARestart() throws Exception {
    byte[] req = TestClients.request(2, "s3cret").toByteArray();
    try (ReloadingExporter e = exporter()) {
      assertThat(e.export(OtlpWire.Signal.TRACES, req).kind()).isEqualTo(ExportResult.Kind.SUCCESS);
      assertThat(lastClientSubject()).contains("CN=spillway-dev-client");

      Path[] rotated = pki.clientNamed("rotated-client");
      replace(rotated[0], rotated[1], 5);

      assertThat(e.export(OtlpWire.Signal.TRACES, req).kind()).isEqualTo(ExportResult.Kind.SUCCESS);
      assertThat(lastClientSubject()).contains("CN=rotated-client");
    }
    assertThat(downstream.requests).hasSize(2);
  }

  @Test
  void filesThatDoNotLoad_keepTheCurrentCertificate_andALaterGoodWriteIsTaken() throws Exception {
    byte[] req = TestClients.request(1, "s3cret").toByteArray();
    try (ReloadingExporter e = exporter()) {
      assertThat(e.export(OtlpWire.Signal.TRACES, req).kind()).isEqualTo(ExportResult.Kind.SUCCESS);

      Files.writeString(cert, "not a certificate");
      Files.setLastModifiedTime(cert, FileTime.from(Instant.now().plusSeconds(5)));
      assertThat(e.export(OtlpWire.Signal.TRACES, req).kind()).as("still exporting with the old material").isEqualTo(ExportResult.Kind.SUCCESS);
      assertThat(lastClientSubject()).contains("CN=spillway-dev-client");

      Path[] rotated = pki.clientNamed("second-try");
      replace(rotated[0], rotated[1], 10);
      assertThat(e.export(OtlpWire.Signal.TRACES, req).kind()).isEqualTo(ExportResult.Kind.SUCCESS);
      assertThat(lastClientSubject()).contains("CN=second-try");
    }
  }

  @Test
  void unchangedFiles_keepTheExporterAndItsConnection() throws Exception {
    byte[] req = TestClients.request(1, "s3cret").toByteArray();
    try (ReloadingExporter e = exporter()) {
      for (int i = 0; i < 3; i++) {
        assertThat(e.export(OtlpWire.Signal.TRACES, req).kind()).isEqualTo(ExportResult.Kind.SUCCESS);
      }
    }
    assertThat(downstream.requests).hasSize(3)
        .allSatisfy(r -> assertThat(r.clientSubject()).contains("CN=spillway-dev-client"));
  }
}
