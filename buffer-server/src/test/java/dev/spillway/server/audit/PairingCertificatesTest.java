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

  @Test
  void pair_serverCertificateExpiredOnTheAuditsClock_fails() throws Exception {
    Audit.Environment later = AuditTesting.fixtureEnvironment(AuditTesting.fixedClock("2099-01-01T00:00:00Z"));
    Audit.Result r = new Audit(later).run(java.util.List.of(sdk("a/ca.crt", "a"), collector("a", "a/ca.crt")),
        java.util.List.of(), java.util.Set.of());
    assertThat(outcomes(r)).containsExactly("PIT-CA-ONE-SIDE:fail", "PIT-CA-ONE-SIDE:fail");
    assertThat(r.findings()).extracting(Finding::message)
        .anySatisfy(m -> assertThat(m).contains("cert_file a/server.crt expired on"))
        .anySatisfy(m -> assertThat(m).contains("a/client.crt expired on"));
  }

  @Test
  void pair_clientCertificateServedAsServerCertificate_failsOnKeyUsage() throws Exception {
    Path yaml = collector("a", "a/ca.crt");
    Files.writeString(yaml, Files.readString(yaml).replace("a/server.crt", "a/client.crt").replace("a/server.key", "a/client.key"));
    Audit.Result r = audit(sdk("a/ca.crt", "a"), yaml);
    assertThat(outcomes(r)).containsExactly("PIT-CA-ONE-SIDE:fail");
    assertThat(r.findings().get(0).message()).contains("a/client.crt has extended key usage").contains("without serverAuth");
  }

  @Test
  void pair_sameCasInDifferentFolders_notPairedUnlessAsked() throws Exception {
    Path other = Files.createDirectories(root.resolve("elsewhere"));
    Path yaml = Files.copy(collector("a", "a/ca.crt"), other.resolve("otelcol.yaml"));
    Files.writeString(yaml, Files.readString(yaml).replace("a/", "../a/"));
    Path env = sdk("b/ca.crt", "a");
    assertThat(outcomes(audit(env, yaml))).isEmpty();
    Audit.Request paired = new Audit.Request(java.util.List.of(), java.util.List.of(),
        java.util.List.of(java.util.List.of(env, yaml)), java.util.List.of(), java.util.Set.of(), Audit.Roles.none(),
        Audit.Suppressions.none());
    assertThat(outcomes(new Audit(AuditTesting.fixtureEnvironment()).run(paired))).containsExactly("PIT-CA-ONE-SIDE:fail");
  }
}
