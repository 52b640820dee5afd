package dev.spillway.server.audit;

import static dev.spillway.server.audit.AuditTesting.command;
import static dev.spillway.server.audit.AuditTesting.fixture;
import static dev.spillway.server.audit.AuditTesting.outcomes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inputs as operators have them (ConfigMaps, Helm values, the operator's resource, multi-document
 * manifests, compose, templates, --config layers), where listeners reach, roles from the user,
 * host-dependent checks and the baseline. Files from the real-world corpus where one shows the
 * case; small written files where the case needs a contrast.
 */
class OperatorInputsTest {

  private static Audit.Result audit(Audit.Environment env, Path... files) {
    return new Audit(env).run(List.of(files), List.of(), Set.of());
  }

  private static Audit.Result audit(Path... files) {
    return audit(AuditTesting.ciEnvironment(), files);
  }

  private static Audit.Result layered(Path... files) {
    return new Audit(AuditTesting.ciEnvironment()).run(new Audit.Request(List.of(), List.of(List.of(files)),
        List.of(), List.of(), Set.of(), Audit.Roles.none(), Audit.Suppressions.none()));
  }

  private static Path write(Path dir, String name, String... lines) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    return p;
  }

  @Test
  void read_renderedConfigMap_findingsAtTheManifestsLines() {
    Audit.Result r = audit(fixture("corpus/helm-otlp-traces/rendered-configmap.yaml"));
    assertThat(r.errors()).isEmpty();
    assertThat(r.findings()).extracting(Finding::line, Finding::key).containsExactly(
        org.assertj.core.groups.Tuple.tuple(32, "data.relay.receivers.otlp.protocols.grpc"),
        org.assertj.core.groups.Tuple.tuple(34, "data.relay.receivers.otlp.protocols.http"));
    assertThat(r.inputs().get(0).kind()).contains("ConfigMap example-opentelemetry-collector data.relay");
  }

  @Test
  void read_collectorChartValues_auditsConfigNotTheKubernetesService() {
    Audit.Result r = audit(fixture("corpus/helm-collector/values.yaml"));
    assertThat(r.inputs().get(0).kind()).isEqualTo("collector config in Helm values config");
    assertThat(outcomes(r)).containsOnly("RX-NO-TLS:fail").hasSize(6);
    assertThat(r.findings()).extracting(Finding::key).contains("config.receivers.otlp.protocols.grpc",
        "config.receivers.zipkin");
  }

  @Test
  void layered_helmValuesNullRemovesTheChartsReceivers() {
    Audit.Result r = layered(fixture("corpus/helm-collector/values.yaml"), fixture("corpus/helm-otlp-traces/values.yaml"));
    assertThat(r.findings()).extracting(Finding::key)
        .containsExactly("config.receivers.otlp.protocols.grpc", "config.receivers.otlp.protocols.http");
    assertThat(r.findings()).allSatisfy(f -> assertThat(f.file()).endsWith("helm-collector/values.yaml"));
  }

  @Test
  void layered_overlayWithoutMemoryLimiter_inheritsTheBasesProcessors() {
    Path base = fixture("corpus/otel-demo/otelcol-config.yml");
    Path overlay = fixture("corpus/otel-demo/otelcol-config-observability.yml");
    Audit.Result merged = layered(base, overlay, fixture("corpus/otel-demo/otelcol-config-extras.yml"));
    assertThat(merged.errors()).isEmpty();
    assertThat(outcomes(merged)).doesNotContain("P2-MEMORY-LIMITER:warn");
    assertThat(merged.findings()).filteredOn(f -> f.rule() == Rule.P1_INSECURE)
        .allSatisfy(f -> assertThat(f.file()).endsWith("otelcol-config-observability.yml"));
    Audit.Result alone = audit(overlay);
    assertThat(outcomes(alone)).contains("P2-MEMORY-LIMITER:warn");
  }

  @Test
  void read_emptyOverlayAlone_saysItIsEmpty() {
    Audit.Result r = audit(fixture("corpus/otel-demo/otelcol-config-extras.yml"));
    assertThat(r.errors()).singleElement().satisfies(e -> assertThat(e.reason()).startsWith("empty:"));
  }

  @Test
  void read_multiDocumentWithOperatorResource_receiversDefaultToAllInterfaces(@TempDir Path dir) throws IOException {
    Audit.Result r = audit(fixture("corpus/operator/exporter-with-tls.yaml"));
    assertThat(r.errors()).isEmpty();
    assertThat(r.findings()).filteredOn(f -> f.rule() == Rule.RX_NO_TLS).singleElement()
        .satisfies(f -> {
          assertThat(f.severity()).isEqualTo(Severity.FAIL);
          assertThat(f.line()).isEqualTo(31);
          assertThat(f.message()).contains("operator gives receivers 0.0.0.0");
        });
    // The same receiver in a plain collector config listens on localhost by default.
    Path plain = write(dir, "otelcol.yaml", "receivers: {jaeger: {protocols: {grpc: {}}}}",
        "service: {pipelines: {traces: {receivers: [jaeger], processors: [memory_limiter], exporters: [debug]}}}");
    assertThat(outcomes(audit(plain))).containsExactly("RX-NO-TLS:warn");
  }

  @Test
  void reach_envDefaultDecides(@TempDir Path dir) throws IOException {
    Path local = write(dir, "a.yaml", "receivers: {otlp: {protocols: {grpc: {endpoint: \"${env:HOST:-localhost}:4317\"}}}}");
    Path unknown = write(dir, "b.yaml", "receivers: {otlp: {protocols: {grpc: {endpoint: \"${env:HOST}:4317\"}}}}");
    assertThat(outcomes(audit(local))).containsExactly("RX-NO-TLS:warn");
    assertThat(outcomes(audit(unknown))).containsExactly("RX-NO-TLS:fail");
  }

  @Test
  void read_composeListAndMap_oneSdkPerServiceWithExporterVariables() {
    Audit.Result list = audit(fixture("corpus/contrib-demo/docker-compose.yaml"));
    assertThat(list.inputs()).extracting(Audit.AuditInputSummary::kind)
        .containsExactly("SDK environment of compose service demo-client", "SDK environment of compose service demo-server");
    Audit.Result map = audit(fixture("corpus/lgtm-java/docker-compose.yml"));
    assertThat(map.findings()).singleElement().satisfies(f -> {
      assertThat(f.rule()).isEqualTo(Rule.P1_HTTP_ENDPOINT);
      assertThat(f.line()).isEqualTo(22);
    });
  }

  @Test
  void read_deploymentContainerEnv_isAnSdkEnvironment(@TempDir Path dir) throws IOException {
    Path manifest = write(dir, "app.yaml",
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata: {name: checkout}",
        "spec:",
        "  template:",
        "    spec:",
        "      containers:",
        "        - name: app",
        "          env:",
        "            - name: OTEL_EXPORTER_OTLP_ENDPOINT",
        "              value: http://otel-collector.observability.svc:4318",
        "            - name: OTEL_EXPORTER_OTLP_HEADERS",
        "              valueFrom: {secretKeyRef: {name: otlp, key: headers}}",
        "        - name: sidecar",
        "          env: [{name: LOG_LEVEL, value: info}]",
        "---",
        "apiVersion: v1",
        "kind: Service",
        "metadata: {name: checkout}");
    Audit.Result r = audit(manifest);
    assertThat(r.inputs()).extracting(Audit.AuditInputSummary::kind)
        .containsExactly("SDK environment of Deployment checkout container app");
    assertThat(r.findings()).singleElement().satisfies(f -> {
      assertThat(f.rule()).isEqualTo(Rule.P1_HTTP_ENDPOINT);
      assertThat(f.severity()).isEqualTo(Severity.FAIL);
      assertThat(f.line()).isEqualTo(11);
    });
  }

  @Test
  void read_envFileWithoutExporterVariables_notJudged() {
    Audit.Result r = audit(fixture("corpus/adot/.env"));
    assertThat(r.errors()).isEmpty();
    assertThat(r.findings()).isEmpty();
  }

  @Test
  void read_templates_namedAsSuch(@TempDir Path dir) throws IOException {
    Path helm = write(dir, "configmap.yaml", "data:", "  relay: |", "    {{- toYaml .Values.config | nindent 4 }}",
        "  {{- if .Values.extra }}", "{{ end }}");
    assertThat(audit(helm).errors()).singleElement()
        .satisfies(e -> assertThat(e.reason()).contains("a Helm/Go template").contains("render it"));
    Audit.Result tpl = audit(fixture("corpus/iam-workmail/iam-role-policy.json.tpl"));
    assertThat(tpl.inputs().get(0).kind()).contains("Terraform template");
    Path nomad = write(dir, "otel.nomad", "job \"otel\" {}");
    assertThat(audit(nomad).errors()).singleElement().satisfies(e -> assertThat(e.reason()).contains("HCL"));
  }

  @Test
  void iam_sameWritePolicyUnderAnyName_sameVerdict(@TempDir Path dir) throws IOException {
    String policy = Files.readString(fixture("iam/writer-decrypt.json"));
    Path tempo = write(dir, "tempo-writer.json", policy);
    Path other = write(dir, "x.json", policy);
    for (Path p : List.of(tempo, other)) {
      Audit.Result unnamed = audit(p);
      assertThat(outcomes(unnamed)).containsExactly("P3-IAM-ROLE:unknown");
      Audit.Result asWriter = new Audit(AuditTesting.ciEnvironment()).run(new Audit.Request(List.of(p), List.of(),
          List.of(), List.of(), Set.of(), new Audit.Roles(Set.of(p.toString()), Set.of()), Audit.Suppressions.none()));
      assertThat(outcomes(asWriter)).containsExactly("P3-IAM-WRITER-DECRYPT:fail");
    }
  }

  @Test
  void iam_tempoAsReaderWithDecrypt_passesAndWithoutFails() {
    Path policy = fixture("corpus/iam-workmail/iam-role-policy.json.tpl"); // S3 SSE-KMS: GenerateDataKey* and Decrypt
    Audit.Result reader = new Audit(AuditTesting.ciEnvironment()).run(new Audit.Request(List.of(policy), List.of(),
        List.of(), List.of(), Set.of(), new Audit.Roles(Set.of(), Set.of(policy.toString())), Audit.Suppressions.none()));
    assertThat(outcomes(reader)).isEmpty();
    Path noDecrypt = fixture("iam/writer-good.json");
    Audit.Result bad = new Audit(AuditTesting.ciEnvironment()).run(new Audit.Request(List.of(noDecrypt), List.of(),
        List.of(), List.of(), Set.of(), new Audit.Roles(Set.of(), Set.of(noDecrypt.toString())), Audit.Suppressions.none()));
    assertThat(outcomes(bad)).containsExactly("P3-IAM-READER-DECRYPT:fail");
  }

  @Test
  void mount_pathNotOnThisHost_unknownAndNamesTheHost() {
    Audit.Result r = audit(fixture("corpus/lgtm/tempo-config.yaml"));
    assertThat(r.findings()).filteredOn(f -> f.rule() == Rule.P2_SPILL_MOUNT).singleElement().satisfies(f -> {
      assertThat(f.severity()).isEqualTo(Severity.UNKNOWN);
      assertThat(f.message()).contains("/data/tempo/wal does not exist on ci-host");
    });
    assertThat(r.exitCode()).isZero();
  }

  @Test
  void exporter_publicSaasEndpoint_noCaOrClientCertificateFindings(@TempDir Path dir) throws IOException {
    Path cfg = write(dir, "otelcol.yaml",
        "exporters:",
        "  otlp/saas: {endpoint: \"api.honeycomb.io:443\", headers: {x-honeycomb-team: \"${env:KEY}\"}}",
        "  otlp/private: {endpoint: \"gateway.observability.svc:4317\"}",
        "service: {pipelines: {traces: {receivers: [], processors: [memory_limiter], exporters: [otlp/saas, otlp/private]}}}");
    Audit.Result r = audit(cfg);
    assertThat(r.findings()).allSatisfy(f -> assertThat(f.key()).startsWith("exporters.otlp/private"));
    assertThat(outcomes(r)).containsExactly("P1-CA-MISSING:warn", "P1-CLIENT-CERT-MISSING:warn");
  }

  @Test
  void baseline_suppressesWithReasonAndRefusesALineWithout(@TempDir Path dir) throws IOException {
    Path cfg = fixture("collector/rx-no-tls.yaml");
    Path baseline = dir.resolve("baseline.tsv");
    AuditTesting.CommandRun first = command(AuditTesting.ciEnvironment(), "--write-baseline", baseline.toString(),
        cfg.toString());
    assertThat(first.exitCode()).isEqualTo(1);
    assertThat(Files.readString(baseline)).contains("RX-NO-TLS\t" + cfg + "\treceivers.otlp.protocols.http\taccepted");
    AuditTesting.CommandRun second = command(AuditTesting.ciEnvironment(), "--baseline", baseline.toString(),
        cfg.toString());
    assertThat(second.exitCode()).isZero();
    assertThat(second.out()).contains("Suppressed").contains("1 suppressed");
    Files.writeString(baseline, "RX-NO-TLS\t" + cfg + "\treceivers.otlp.protocols.http\t\n");
    AuditTesting.CommandRun refused = command(AuditTesting.ciEnvironment(), "--baseline", baseline.toString(),
        cfg.toString());
    assertThat(refused.exitCode()).isEqualTo(2);
    assertThat(refused.err()).contains("baseline.tsv line 1").contains("reason must not be empty");
  }

  @Test
  void inlineSuppression_withReasonSuppresses_withoutReasonDoesNot(@TempDir Path dir) throws IOException {
    Path withReason = write(dir, "a.yaml",
        "receivers:",
        "  otlp:",
        "    protocols:",
        "      # spillway-audit: allow RX-NO-TLS -- sidecar, pod network policy allows only the app container",
        "      grpc: {endpoint: 0.0.0.0:4317}");
    Audit.Result r = audit(withReason);
    assertThat(r.findings()).isEmpty();
    assertThat(r.suppressed()).singleElement()
        .satisfies(s -> assertThat(s.reason()).isEqualTo("inline at line 4: sidecar, pod network policy allows only the app container"));
    assertThat(r.exitCode()).isZero();
    Path withoutReason = write(dir, "b.yaml",
        "receivers:",
        "  otlp:",
        "    protocols:",
        "      grpc: {endpoint: 0.0.0.0:4317}  # spillway-audit: allow RX-NO-TLS");
    assertThat(outcomes(audit(withoutReason))).containsExactly("RX-NO-TLS:fail");
  }

  @Test
  void protocolOf_inferredFromEndpoint() {
    assertThat(PairingChecks.protocolOf(EnvFile.parse("OTEL_EXPORTER_OTLP_ENDPOINT=https://c:4318\n"))).isEqualTo("http");
    assertThat(PairingChecks.protocolOf(EnvFile.parse("OTEL_EXPORTER_OTLP_ENDPOINT=https://c/v1/traces\n"))).isEqualTo("http");
    assertThat(PairingChecks.protocolOf(EnvFile.parse("OTEL_EXPORTER_OTLP_ENDPOINT=c:4317\n"))).isEqualTo("grpc");
    assertThat(PairingChecks.protocolOf(EnvFile.parse("OTEL_EXPORTER_OTLP_ENDPOINT=https://c:443\n"))).isEmpty();
    assertThat(PairingChecks.protocolOf(EnvFile.parse(
        "OTEL_EXPORTER_OTLP_ENDPOINT=https://c:4317\nOTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf\n"))).isEqualTo("http");
  }

  @Test
  void merge_scalarsAndListsReplacedMapsMerged() {
    ConfigNode base = ConfigNode.parse("a: {b: 1, c: [1, 2]}\nd: x\n", "base", 0);
    ConfigNode over = ConfigNode.parse("a: {c: [3]}\nd: null\n", "over", 0);
    ConfigNode collector = ConfigNode.merge(base, over, false);
    assertThat(collector.at("a.b").text()).isEqualTo("1");
    assertThat(collector.at("a.c").texts()).containsExactly("3");
    assertThat(collector.at("a.c").file()).isEqualTo("over");
    assertThat(collector.get("d").isNull()).isTrue();
    assertThat(ConfigNode.merge(base, over, true).get("d").isPresent()).isFalse();
    assertThatThrownBy(() -> ConfigNode.parse("a: 1\na: 2\n", "dup", 0)).hasMessageContaining("duplicate key 'a'");
  }
}
