package dev.spillway.server.audit;

import static dev.spillway.server.audit.AuditTesting.command;
import static dev.spillway.server.audit.AuditTesting.fixtureEnvironment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.spillway.server.audit.AuditTesting.CommandRun;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The static files under ops/ and docs/AUDIT.md, checked with the tools available here. */
class OpsArtefactsTest {

  private static final Path OPS = Paths.get("..", "ops").toAbsolutePath().normalize();
  private static final Path DOCS = Paths.get("..", "docs").toAbsolutePath().normalize();

  private static String[] exampleFiles() throws IOException {
    List<String> files = new ArrayList<>(List.of(
        OPS.resolve("examples/sdk.env").toString(),
        OPS.resolve("examples/otelcol-to-spillway.yaml").toString(),
        OPS.resolve("examples/spillway.yaml").toString(),
        OPS.resolve("examples/tempo-storage.yaml").toString()));
    Path iam = OPS.resolve("iam");
    if (Files.isDirectory(iam)) { // the KMS work writes these; audit them together once merged
      try (Stream<Path> s = Files.list(iam)) {
        s.filter(p -> p.toString().endsWith(".json")).sorted().forEach(p -> files.add(p.toString()));
      }
    }
    return files.toArray(new String[0]);
  }

  private record Result(int exitCode, String output) {}

  private static Result run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(String.join(" ", cmd)).isTrue();
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  private static boolean onPath(String tool) {
    String path = System.getenv("PATH");
    return path != null && Stream.of(path.split(File.pathSeparator)).anyMatch(d -> Files.isExecutable(Paths.get(d, tool)));
  }

  private static List<Object> yamlDocuments(Path file) throws IOException {
    List<Object> docs = new ArrayList<>();
    for (Object o : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(Files.readString(file))) {
      docs.add(o);
    }
    return docs;
  }

  // ---- examples, audited -------------------------------------------------------------------

  @Test
  void examples_auditOnEncryptedFixtureMounts_passWithoutWarnings() throws IOException {
    CommandRun r = command(fixtureEnvironment(), exampleFiles());
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("0 fail, 0 warn");
  }

  @Test
  void examples_auditOnThisMachine_onlyTheLiveMountRuleMayFail() throws IOException {
    List<String> args = new ArrayList<>(List.of("--skip", "P2-SPILL-MOUNT"));
    args.addAll(List.of(exampleFiles()));
    CommandRun r = command(Audit.Environment.system(), args.toArray(new String[0]));
    assertThat(r.exitCode()).as(r.out() + r.err()).isZero();
  }

  @Test
  void examplesSdkEnv_setsTheArticlesVariables() throws IOException {
    String env = Files.readString(OPS.resolve("examples/sdk.env"));
    assertThat(env).contains("OTEL_EXPORTER_OTLP_ENDPOINT=https://", "OTEL_EXPORTER_OTLP_CERTIFICATE=",
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=", "OTEL_EXPORTER_OTLP_CLIENT_KEY=", "OTEL_EXPORTER_OTLP_INSECURE=false",
        "OTEL_METRICS_EXPORTER=otlp", "OTEL_LOGS_EXPORTER=otlp");
  }

  // ---- dev PKI -----------------------------------------------------------------------------

  @Test
  void devCa_chainVerifiesWithOpensslAndJdk(@TempDir Path dir) throws Exception {
    DevPki pki = DevPki.create(dir.resolve("pki"), 30);
    Result openssl = run("openssl", "verify", "-CAfile", pki.file("ca.crt").toString(),
        pki.file("server.crt").toString(), pki.file("client.crt").toString());
    assertThat(openssl.exitCode()).as(openssl.output()).isZero();
    assertThat(openssl.output()).contains("server.crt: OK").contains("client.crt: OK");

    X509Certificate ca = (X509Certificate) DevPki.certificate(pki.file("ca.crt"));
    PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
    params.setRevocationEnabled(false);
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    for (String leaf : List.of("server.crt", "client.crt")) {
      X509Certificate cert = (X509Certificate) DevPki.certificate(pki.file(leaf));
      CertPathValidator.getInstance("PKIX").validate(cf.generateCertPath(List.of(cert)), params);
      assertThat(DevPki.privateKey(pki.file(leaf.replace(".crt", ".key")))).isNotNull();
    }
    X509Certificate server = (X509Certificate) DevPki.certificate(pki.file("server.crt"));
    Collection<List<?>> sans = server.getSubjectAlternativeNames();
    assertThat(sans.stream().map(l -> l.get(1).toString()).collect(Collectors.toList()))
        .contains("localhost", "127.0.0.1");
    assertThat(server.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
    assertThat(((X509Certificate) DevPki.certificate(pki.file("client.crt"))).getExtendedKeyUsage())
        .containsExactly("1.3.6.1.5.5.7.3.2");
    for (String key : List.of("ca.key", "server.key", "client.key")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pki.file(key)))).isEqualTo("rw-------");
    }
    Result again = run("bash", DevPki.SCRIPT.toString(), pki.dir.toString());
    assertThat(again.exitCode()).isNotZero();
    assertThat(again.output()).contains("exists");
  }

  // ---- systemd -----------------------------------------------------------------------------

  private static final List<String> UNITS = List.of("spillway.service", "spillway-ingest.service", "spillway-drain.service");

  private static Map<String, String> unit(String name) throws IOException {
    Map<String, String> kv = new LinkedHashMap<>();
    for (String line : Files.readAllLines(OPS.resolve("systemd").resolve(name))) {
      int eq = line.indexOf('=');
      if (!line.startsWith("#") && eq > 0) {
        kv.merge(line.substring(0, eq), line.substring(eq + 1), (a, b) -> a + "\n" + b);
      }
    }
    return kv;
  }

  @Test
  void systemdUnits_verifyCleanly(@TempDir Path dir) throws Exception {
    assumeTrue(onPath("systemd-analyze"), "systemd-analyze not installed");
    // verify insists that ExecStart exists; point it at a stand-in and check every directive.
    Path stand = dir.resolve("spillway");
    Files.writeString(stand, "#!/bin/sh\nexit 0\n");
    assertThat(stand.toFile().setExecutable(true)).isTrue();
    for (String name : UNITS) {
      Path copy = dir.resolve(name);
      Files.writeString(copy, Files.readString(OPS.resolve("systemd").resolve(name)).replace("/opt/spillway/bin/spillway", stand.toString()));
      Result r = run("systemd-analyze", "verify", copy.toString());
      // verify exits 0 even for unknown keys; it must also print nothing
      assertThat(r.exitCode()).as(name + ": " + r.output()).isZero();
      assertThat(r.output()).as(name).isBlank();
    }
  }

  @Test
  void systemdUnits_areHardened() throws IOException {
    for (String name : UNITS) {
      Map<String, String> u = unit(name);
      assertThat(u).as(name).containsEntry("NoNewPrivileges", "yes").containsEntry("ProtectSystem", "strict")
          .containsEntry("PrivateTmp", "yes").containsEntry("LimitCORE", "0").containsEntry("MemorySwapMax", "0")
          .containsEntry("RequiresMountsFor", "/var/lib/spillway/spill");
      assertThat(u.get("User")).as(name).startsWith("spillway");
      assertThat(u.get("ReadWritePaths").split(" ")).as(name).hasSize(2).contains("/var/lib/spillway/spill");
    }
    assertThat(unit("spillway.service")).containsEntry("UMask", "0077");
    Map<String, String> ingest = unit("spillway-ingest.service");
    Map<String, String> drain = unit("spillway-drain.service");
    assertThat(ingest.get("User")).isNotEqualTo(drain.get("User"));
    for (Map<String, String> u : List.of(ingest, drain)) {
      assertThat(u).containsEntry("UMask", "0007").containsEntry("SupplementaryGroups", "spillway-spill");
    }
    assertThat(ingest.get("ExecStart")).contains("--role ingest");
    assertThat(drain.get("ExecStart")).contains("--role drain");
    assertThat(Files.readString(OPS.resolve("systemd/spillway-split.tmpfiles.conf")))
        .containsPattern("d /var/lib/spillway/spill\\s+2770\\s+root\\s+spillway-spill");
  }

  private static long mib(String javaOpts, String flag) {
    Matcher m = Pattern.compile(Pattern.quote(flag) + "(\\d+)([mMgG])").matcher(javaOpts);
    assertThat(m.find()).as(flag + " in " + javaOpts).isTrue();
    long v = Long.parseLong(m.group(1));
    return m.group(2).equalsIgnoreCase("g") ? v * 1024 : v;
  }

  private static long unitMib(String value) {
    assertThat(value).endsWith("M");
    return Long.parseLong(value.substring(0, value.length() - 1));
  }

  @Test
  void systemdUnit_memoryLimitsMatchTheConfiguredBuffer() throws IOException {
    ConfigNode cfg = ConfigNode.parse(Files.readString(OPS.resolve("examples/spillway.yaml")));
    long buffer = Long.parseLong(cfg.at("buffer.memory.limit_mib").text())
        + Long.parseLong(cfg.at("buffer.memory.spike_limit_mib").text());
    for (String name : List.of("spillway.service", "spillway-ingest.service")) {
      Map<String, String> u = unit(name);
      String opts = u.get("Environment");
      long heap = mib(opts, "-Xmx");
      long cappedNative = mib(opts, "-XX:MaxDirectMemorySize=") + mib(opts, "-XX:MaxMetaspaceSize=")
          + mib(opts, "-XX:ReservedCodeCacheSize=");
      assertThat(heap).as(name + ": heap holds the buffer with headroom").isGreaterThanOrEqualTo(buffer + 256);
      assertThat(unitMib(u.get("MemoryHigh"))).as(name).isGreaterThanOrEqualTo(heap + cappedNative + 128);
      assertThat(unitMib(u.get("MemoryMax"))).as(name).isGreaterThan(unitMib(u.get("MemoryHigh")));
    }
  }

  // ---- Kubernetes, Docker, Grafana ---------------------------------------------------------

  @Test
  @SuppressWarnings("unchecked")
  void k8sManifests_nonRootReadOnlyWithSpillOnEncryptedClass() throws IOException {
    int workloads = 0;
    for (String file : List.of("daemonset.yaml", "sidecar.yaml")) {
      for (Object d : yamlDocuments(OPS.resolve("k8s").resolve(file))) {
        Map<String, Object> doc = (Map<String, Object>) d;
        if (!List.of("DaemonSet", "Deployment").contains(doc.get("kind"))) {
          continue;
        }
        workloads++;
        Map<String, Object> pod = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) doc.get("spec"))
            .get("template")).get("spec");
        assertThat((Map<String, Object>) pod.get("securityContext")).as(file).containsEntry("runAsNonRoot", true);
        for (Map<String, Object> c : (List<Map<String, Object>>) pod.get("containers")) {
          assertThat((Map<String, Object>) c.get("securityContext")).as(file + " " + c.get("name"))
              .containsEntry("readOnlyRootFilesystem", true).containsEntry("allowPrivilegeEscalation", false);
        }
        Map<String, Object> spill = ((List<Map<String, Object>>) pod.get("volumes")).stream()
            .filter(v -> "spill".equals(v.get("name"))).findFirst().orElseThrow();
        assertThat(spill.toString()).as(file).contains("storageClassName=spillway-encrypted");
      }
    }
    assertThat(workloads).isEqualTo(2);
    Map<String, Object> sc = (Map<String, Object>) yamlDocuments(OPS.resolve("k8s/storageclass-encrypted.yaml")).get(0);
    assertThat((Map<String, Object>) sc.get("parameters")).containsEntry("encrypted", "true").containsKey("kmsKeyId");
  }

  @Test
  void dockerfile_lintsCleanWithHadolint() throws Exception {
    Path dockerfile = OPS.resolve("docker/Dockerfile");
    String text = Files.readString(dockerfile);
    assertThat(text).contains("USER 10001:10001").contains("VOLUME [\"/var/lib/spillway/spill\"]");
    String hadolint = System.getenv().getOrDefault("HADOLINT", "hadolint");
    assumeTrue(onPath(hadolint) || Files.isExecutable(Paths.get(hadolint)), "hadolint not installed");
    Result r = run(hadolint, dockerfile.toString());
    assertThat(r.exitCode()).as(r.output()).isZero();
  }

  @Test
  @SuppressWarnings("unchecked")
  void grafanaDashboard_queriesEverySpillwayMetric() throws IOException {
    Map<String, Object> dash = (Map<String, Object>) yamlDocuments(OPS.resolve("examples/grafana/spillway-dashboard.json")).get(0);
    List<String> exprs = new ArrayList<>();
    for (Map<String, Object> panel : (List<Map<String, Object>>) dash.get("panels")) {
      for (Map<String, Object> t : (List<Map<String, Object>>) panel.get("targets")) {
        exprs.add((String) t.get("expr"));
      }
    }
    String all = String.join("\n", exprs);
    for (String metric : List.of("spillway_items_received_total", "spillway_items_refused_total",
        "spillway_items_spilled_total", "spillway_items_exported_total", "spillway_items_dropped_total",
        "spillway_receiver_requests_total",
        "spillway_buffer_memory_bytes", "spillway_buffer_disk_bytes", "spillway_key_epochs_total",
        "storage_write_latency_seconds_bucket", "spillway_tls_handshake_failures_total",
        "spillway_export_retries_total")) {
      assertThat(all).as(metric).contains(metric);
    }
    // Every metric the dashboard queries is one the daemon really exports.
    dev.spillway.server.telemetry.ServerMetrics metrics = new dev.spillway.server.telemetry.ServerMetrics();
    metrics.bufferMetrics(() -> new dev.spillway.core.BufferMetrics(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    metrics.onStorageWrite(1_000, 10);
    String exported = metrics.render();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\b((?:spillway_|storage_)[a-z_]+)").matcher(all);
    while (m.find()) {
      assertThat(exported).as("the daemon exports %s", m.group(1)).contains(m.group(1));
    }
    assertThat(all).contains("sum by (reason) (rate(spillway_tls_handshake_failures_total")
        .contains("sum by (signal) (rate(spillway_items_received_total");
  }

  // ---- docs --------------------------------------------------------------------------------

  @Test
  void auditDoc_documentsEveryRule() throws IOException {
    String doc = Files.readString(DOCS.resolve("AUDIT.md"));
    for (Rule r : Rule.values()) {
      assertThat(doc).as(r.id()).contains("`" + r.id() + "`");
    }
  }
}
