package dev.spillway.server.audit;

import static dev.spillway.server.audit.AuditTesting.audit;
import static dev.spillway.server.audit.AuditTesting.outcomes;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PIT-CA-ONE-SIDE with real certificate files: two development CAs from ops/pki/dev-ca.sh, and an
 * SDK env file plus a collector config that name them with paths relative to themselves.
 */
class PairingCertificatesTest {

  @TempDir static Path root;

  @BeforeAll
  static void createTwoCas() throws Exception {
    DevPki.create(root.resolve("a"), 30);
    DevPki.create(root.resolve("b"), 30);
  }

  private static Path sdk(String ca, String clientDir) throws Exception {
    Path env = root.resolve("sdk-" + ca.replace('/', '-') + "-" + clientDir + ".env");
    Files.writeString(env, String.join("\n",
        "OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
        "OTEL_EXPORTER_OTLP_ENDPOINT=https://localhost:4317",
        "OTEL_EXPORTER_OTLP_INSECURE=false",
        "OTEL_EXPORTER_OTLP_CERTIFICATE=" + ca,
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=" + clientDir + "/client.crt",
        "OTEL_EXPORTER_OTLP_CLIENT_KEY=" + clientDir + "/client.key", ""));
    return env;
  }

  private static Path collector(String serverDir, String clientCa) throws Exception {
    Path yaml = root.resolve("otelcol-" + serverDir + "-" + clientCa.replace('/', '-') + ".yaml");
    Files.writeString(yaml, String.join("\n",
        "receivers:",
        "  otlp:",
        "    protocols:",
        "      grpc:",
        "        endpoint: 0.0.0.0:4317",
        "        tls:",
        "          cert_file: " + serverDir + "/server.crt",
        "          key_file: " + serverDir + "/server.key",
        "          client_ca_file: " + clientCa,
        "processors: {memory_limiter: {}, batch: {}}",
        "exporters: {debug: {}}",
        "service: {pipelines: {traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [debug]}}}",
        ""));
    return yaml;
  }

  @Test
  void pair_sameCaOnBothSides_noFinding() throws Exception {
    assertThat(outcomes(audit(sdk("a/ca.crt", "a"), collector("a", "a/ca.crt")))).isEmpty();
  }

  @Test
  void pair_sdkTrustsAnotherCaThanTheServerCertificate_fails() throws Exception {
    Audit.Result r = audit(sdk("b/ca.crt", "a"), collector("a", "a/ca.crt"));
    assertThat(outcomes(r)).containsExactly("PIT-CA-ONE-SIDE:fail");
    assertThat(r.findings().get(0).message()).contains("b/ca.crt does not sign receiver otlp/grpc cert_file a/server.crt");
    assertThat(r.findings().get(0).key()).isEqualTo("OTEL_EXPORTER_OTLP_CERTIFICATE");
  }

  @Test
  void pair_clientCaFileDoesNotSignTheSdksClientCertificate_fails() throws Exception {
    Audit.Result r = audit(sdk("a/ca.crt", "b"), collector("a", "a/ca.crt"));
    assertThat(outcomes(r)).containsExactly("PIT-CA-ONE-SIDE:fail");
    assertThat(r.findings().get(0).key()).isEqualTo("receivers.otlp.protocols.grpc.tls.client_ca_file");
    assertThat(r.findings().get(0).line()).isEqualTo(9);
  }
}
