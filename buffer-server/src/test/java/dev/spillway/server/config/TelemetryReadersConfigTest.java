package dev.spillway.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code telemetry.metrics.readers} (or {@code service.telemetry.metrics.readers}, where the
 * collector keeps it) as the collector 0.165 spells a periodic OTLP reader; errors with file, line,
 * column and the nearest known key; plaintext refused; no readers unless configured.
 */
class TelemetryReadersConfigTest {
  private static final String TELEMETRY = "telemetry:\n  metrics:\n    endpoint: 127.0.0.1:0\n";

  @TempDir Path dir;
  TestPki pki;

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
  }

  private String daemonWithout(String telemetry) {
    String base = TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", 4 << 20);
    assertThat(base).endsWith(TELEMETRY);
    return base.substring(0, base.length() - TELEMETRY.length()) + telemetry;
  }

  private ServerConfig load(String yaml) throws Exception {
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, yaml);
    return new ConfigLoader(n -> null, false).load(f);
  }

  private ConfigException error(String yaml) {
    return catchThrowableOfType(ConfigException.class, () -> load(yaml));
  }

  /** The block as a collector 0.165 configuration writes it (checked with otelcol validate). */
  private String collectorBlock(String otlpExtra) {
    return "service:\n"
        + "  pipelines:\n"
        + "    traces:\n"
        + "      receivers: [otlp]\n"
        + "      exporters: [debug]\n"
        + "  telemetry:\n"
        + "    metrics:\n"
        + "      readers:\n"
        + "        - periodic:\n"
        + "            interval: 10000\n"
        + "            timeout: 5000\n"
        + "            exporter:\n"
        + "              otlp:\n"
        + "                protocol: grpc\n"
        + "                endpoint: otel.internal:4317\n"
        + "                certificate: " + pki.ca + "\n"
        + "                client_certificate: " + pki.clientCert + "\n"
        + "                client_key: " + pki.clientKey + "\n"
        + "                headers:\n"
        + "                  - name: x-tenant\n"
        + "                    value: ops\n"
        + otlpExtra;
  }

  @Test
  void collectorShapedReader_underServiceTelemetry_isRead() throws Exception {
    ServerConfig c = load(daemonWithout(collectorBlock("                compression: gzip\n")));
    assertThat(c.metrics().readers()).hasSize(1);
    MetricReaderSettings r = c.metrics().readers().get(0);
    assertThat(r.protocol()).isEqualTo(ServerConfig.Protocol.GRPC);
    assertThat(r.endpoint().toString()).isEqualTo("https://otel.internal:4317");
    assertThat(r.interval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(r.timeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(r.certificate()).contains(pki.ca);
    assertThat(r.clientCertificate()).contains(pki.clientCert);
    assertThat(r.clientKey()).contains(pki.clientKey);
    assertThat(r.headers()).containsEntry("x-tenant", "ops");
    assertThat(r.toString()).doesNotContain("ops"); // header values may be credentials
    // the pull listener stays where it was (default loopback), next to the push
    assertThat(c.metrics().enabled()).isTrue();
  }

  @Test
  void httpReader_atTopLevelTelemetry_getsV1MetricsAndDurations() throws Exception {
    ServerConfig c = load(daemonWithout(TELEMETRY
        + "    readers:\n"
        + "      - periodic:\n"
        + "          interval: 15s\n"
        + "          exporter:\n"
        + "            otlp:\n"
        + "              protocol: http/protobuf\n"
        + "              endpoint: https://otel.internal:4318\n"
        + "              certificate: " + pki.ca + "\n"));
    MetricReaderSettings r = c.metrics().readers().get(0);
    assertThat(r.endpoint().toString()).isEqualTo("https://otel.internal:4318/v1/metrics");
    assertThat(r.interval()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.warnings()).anyMatch(w -> w.contains("no client_certificate"));
  }

  @Test
  void noReaders_none() throws Exception {
    assertThat(load(daemonWithout(TELEMETRY)).metrics().readers()).isEmpty();
  }

  @Test
  void typoInAReaderKey_isNamedWithFilePositionAndNearestKey() {
    String yaml = daemonWithout(collectorBlock("").replace("client_certificate:", "client_certficate:"));
    ConfigException e = error(yaml);
    assertThat(e.getMessage())
        .containsPattern("c\\.yaml:\\d+:\\d+: service\\.telemetry\\.metrics\\.readers\\[0]\\.periodic\\.exporter\\.otlp"
            + "\\.client_certficate: unknown key; did you mean 'client_certificate'\\?");
  }

  @Test
  void tlsBlockInsteadOfTheCollectorsKeys_isAnUnknownKey() {
    String yaml = daemonWithout(collectorBlock("                tls:\n                  ca_file: " + pki.ca + "\n"));
    assertThat(error(yaml).getMessage()).containsPattern(":\\d+:\\d+: .*otlp\\.tls: unknown key");
  }

  /** One gRPC reader under {@code telemetry.metrics}, its otlp block ending with {@code otlpLines}. */
  private String grpcReader(String otlpLines) {
    return daemonWithout(TELEMETRY
        + "    readers:\n"
        + "      - periodic:\n"
        + "          exporter:\n"
        + "            otlp:\n"
        + "              protocol: grpc\n"
        + otlpLines);
  }

  @Test
  void plaintextEndpoint_refusedWithoutTheDevelopmentFlag() {
    String yaml = grpcReader("              endpoint: http://127.0.0.1:4317\n");
    assertThat(error(yaml).getMessage()).contains("plaintext telemetry export is refused");
  }

  @Test
  void insecureWithAnHttpsEndpoint_isAContradictionInAnyCase() {
    for (String endpoint : new String[] {"https://127.0.0.1:4317", "HTTPS://127.0.0.1:4317"}) {
      String yaml = grpcReader("              insecure: true\n              endpoint: " + endpoint + "\n");
      assertThat(error(yaml).getMessage()).as(endpoint)
          .containsPattern(":\\d+:\\d+: .*otlp\\.insecure: insecure: true contradicts an https:// endpoint");
    }
  }

  @Test
  void missingCertificateFile_isAnErrorAtItsKey() {
    String yaml = daemonWithout(collectorBlock("").replace("certificate: " + pki.ca, "certificate: " + dir.resolve("nope.pem")));
    assertThat(error(yaml).getMessage()).containsPattern(":\\d+:\\d+: .*otlp\\.certificate: .*nope\\.pem does not exist");
  }

  @Test
  void threeErrorsInReaders_allReported() {
    String yaml = daemonWithout(TELEMETRY
        + "    readers:\n"
        + "      - periodic:\n"
        + "          exporter:\n"
        + "            otlp:\n"
        + "              protocol: grpc\n"
        + "              endpoint: https://a:4317\n"
        + "              compresion: gzip\n"
        + "      - periodic:\n"
        + "          intervall: 1000\n"
        + "          exporter:\n"
        + "            otlp:\n"
        + "              protocol: thrift\n"
        + "              endpoint: https://b:4317\n");
    ConfigException e = error(yaml);
    assertThat(e.problems()).hasSize(3);
    assertThat(e.getMessage()).contains("compresion: unknown key; did you mean 'compression'?")
        .contains("'thrift' is not one of grpc, http/protobuf")
        .contains("intervall: unknown key; did you mean 'interval'?");
  }

  @Test
  void telemetryTwice_isRefused() {
    String yaml = daemonWithout(TELEMETRY + collectorBlock(""));
    assertThat(error(yaml).getMessage()).contains("configured twice");
  }
}
