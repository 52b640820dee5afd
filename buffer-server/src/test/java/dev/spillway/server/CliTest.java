package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
  @TempDir Path dir;
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void certsDev_writesPkcs8KeysAndCertificates() throws Exception {
    assertThat(run("certs", "dev", "--out", dir.resolve("c").toString())).isZero();
    for (String f : new String[] {"ca.crt", "server.crt", "server.key", "client.crt", "client.key"}) {
      assertThat(dir.resolve("c").resolve(f)).exists();
    }
    assertThat(Files.readString(dir.resolve("c/client.key"))).startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(Files.getPosixFilePermissions(dir.resolve("c/server.key"))).isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    assertThat(run("certs", "dev", "--out", dir.resolve("c").toString())).isEqualTo(1); // no overwrite
  }

  @Test
  void keysInit_writesWriterAndReaderKeysets() {
    assertThat(run("keys", "init", "--out", dir.resolve("k").toString())).isZero();
    assertThat(dir.resolve("k/writer.json")).exists();
    assertThat(dir.resolve("k/reader.json")).exists();
  }

  @Test
  void configValidate_reportsValidOrTheKeyAndPosition() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    Path good = dir.resolve("good.yaml");
    Files.writeString(good, TestConfigs.daemon(pki, dir.resolve("s"), dir.resolve("k"), "", 1 << 20));
    assertThat(run("config", "validate", "--config", good.toString())).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("valid");
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 0.0.0.0:4317\n"
        + "buffer:\n  spill:\n    directory: /tmp/x\n    keys:\n      writer_keyset: w.json\n");
    assertThat(run("config", "validate", "--config", bad.toString())).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("bad.yaml:5:").contains("receiver 'grpc' has no tls block");
  }

  @Test
  void unknownCommandAndSpillInspect_nonZero() {
    assertThat(run("frobnicate")).isEqualTo(2);
    assertThat(run("version")).isZero();
    assertThat(run("spill", "inspect", "--dir", dir.toString())).isNotZero();
  }

  @Test
  void configValidate_acceptsTheShippedExample_withItsHostPathsMadeLocal() throws Exception {
    Path example = Path.of("..", "ops", "examples", "spillway.yaml");
    Path tls = dir.resolve("tls");
    assertThat(run("certs", "dev", "--out", tls.toString())).isZero();
    Files.copy(tls.resolve("ca.crt"), tls.resolve("client-ca.crt"));
    Files.copy(tls.resolve("ca.crt"), tls.resolve("downstream-ca.crt"));
    assertThat(run("keys", "init", "--out", dir.resolve("keys").toString())).isZero();
    String yaml = Files.readString(example)
        .replace("/etc/spillway/tls/", tls + "/")
        .replace("/etc/spillway/keys/", dir.resolve("keys") + "/")
        .replace("/var/lib/spillway/spill", dir.resolve("spill").toString());
    Path local = dir.resolve("spillway.yaml");
    Files.writeString(local, yaml);
    int code = run("config", "validate", "--config", local.toString());
    assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
  }

  @Test
  void audit_dispatchesToTheAuditCommand_withItsExitCodes() throws Exception {
    Path bad = dir.resolve("sdk.env");
    Files.writeString(bad, "OTEL_EXPORTER_OTLP_ENDPOINT=http://collector.internal:4318\n");
    assertThat(run("audit", bad.toString())).as("a failing finding").isEqualTo(1);
    assertThat(run("audit", dir.resolve("missing.yaml").toString())).as("an unreadable input").isEqualTo(2);
  }

  /** A real child JVM: serve, then SIGTERM → memory sealed, exit code 0. */
  @Test
  void serve_sigterm_sealsAndExitsZero() throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    LocalKeys.init(dir.resolve("keys"));
    Path cfg = dir.resolve("spillway.yaml");
    Files.writeString(cfg, TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", 1 << 20));
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmFlags());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("dev.spillway.server.Main");
    cmd.add("serve");
    cmd.add("--config");
    cmd.add(cfg.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      boolean sent = false;
      while ((line = r.readLine()) != null) { // ends when the child exits
        lines.add(line);
        if (!sent && line.contains("spillway ready")) {
          p.toHandle().destroy(); // SIGTERM, streams stay open
          sent = true;
        }
      }
    } finally {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    assertThat(lines).anyMatch(l -> l.contains("spillway ready"));
    assertThat(lines).anyMatch(l -> l.contains("stopped"));
    assertThat(p.exitValue()).isZero();
    assertThat(String.join("\n", lines)).doesNotContain("google-analytics").doesNotContain("Leave your e-mail");
  }

  private static List<String> jvmFlags() {
    List<String> flags = new ArrayList<>();
    for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-") || a.startsWith("--sun-misc") || a.startsWith("--enable-native")) {
        flags.add(a);
      }
    }
    return flags;
  }
}
