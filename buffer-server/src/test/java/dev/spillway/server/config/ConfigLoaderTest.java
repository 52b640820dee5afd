package dev.spillway.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;
  TestPki pki;

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
  }

  private ServerConfig load(String yaml, Map<String, String> env, boolean dev) throws Exception {
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, yaml);
    return new ConfigLoader(env::get, dev).load(f);
  }

  private String valid() {
    return TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", 4 << 20);
  }

  @Test
  void load_fullConfig_parsesEveryBlock() throws Exception {
    ServerConfig c = load(valid(), Map.of(), false);
    assertThat(c.grpc()).isPresent();
    assertThat(c.grpc().get().tls().get().clientAuth()).isEqualTo(TlsSettings.ClientAuth.REQUIRE);
    assertThat(c.http().get().maxRequestBytes()).isEqualTo(4 << 20);
    assertThat(c.buffer().memoryLimitBytes()).isEqualTo(8L << 20);
    assertThat(c.exporter().debug()).isTrue();
    assertThat(c.warnings()).anyMatch(w -> w.contains("debug exporter"));
  }

  @Test
  void load_receiverWithoutTls_refusesNamingReceiverAndPosition() {
    String yaml = "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:4317\n"
        + "buffer:\n  spill:\n    directory: /tmp/x\n    keys:\n      writer_keyset: w.json\n";
    assertThatThrownBy(() -> load(yaml, Map.of(), false))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("c.yaml:5:")
        .hasMessageContaining("receivers.otlp.protocols.grpc")
        .hasMessageContaining("receiver 'grpc' has no tls block");
  }

  @Test
  void load_tlsWithoutClientCa_refusesUnlessClientAuthNone() throws Exception {
    String noCa = valid().replaceFirst(
        java.util.regex.Pattern.quote("          client_ca_file: " + pki.ca + "\n"), "");
    assertThatThrownBy(() -> load(noCa, Map.of(), false))
        .hasMessageContaining("receivers.otlp.protocols.grpc.tls")
        .hasMessageContaining("client_ca_file is missing");
    String none = noCa.replaceFirst("          reload_interval", "          client_auth: none\n          reload_interval");
    ServerConfig c = load(none, Map.of(), false);
    assertThat(c.grpc().get().tls().get().clientAuth()).isEqualTo(TlsSettings.ClientAuth.NONE);
    assertThat(c.warnings()).anyMatch(w -> w.contains("client_auth: none"));
  }

  @Test
  void load_insecureDevMode_onlyWithFlagAndLoopback() throws Exception {
    String plain = "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: ENDPOINT\n"
        + "buffer:\n  spill:\n    directory: /tmp/x\n    keys:\n      writer_keyset: w.json\n";
    assertThatThrownBy(() -> load(plain.replace("ENDPOINT", "127.0.0.1:4318"), Map.of(), false))
        .hasMessageContaining("no tls block");
    assertThatThrownBy(() -> load(plain.replace("ENDPOINT", "0.0.0.0:4318"), Map.of(), true))
        .hasMessageContaining("loopback only");
    ServerConfig c = load(plain.replace("ENDPOINT", "127.0.0.1:4318"), Map.of(), true);
    assertThat(c.http().get().tls()).isEmpty();
    assertThat(c.warnings()).anyMatch(w -> w.contains("PLAINTEXT"));
  }

  @Test
  void load_envExpansion_substitutesAndRefusesUnset() throws Exception {
    String yaml = valid().replace(pki.serverCert.toString(), "${env:CERT}");
    ServerConfig c = load(yaml, Map.of("CERT", pki.serverCert.toString()), false);
    assertThat(c.grpc().get().tls().get().certFile()).isEqualTo(pki.serverCert);
    assertThatThrownBy(() -> load(yaml, Map.of(), false))
        .hasMessageContaining("receivers.otlp.protocols.grpc.tls.cert_file")
        .hasMessageContaining("environment variable CERT is not set");
  }

  @Test
  void load_unknownKey_refusedWithLineAndColumn() {
    String yaml = valid().replace("    limit_mib: 8\n", "    limit_mib: 8\n    limit_mbi: 9\n");
    assertThatThrownBy(() -> load(yaml, Map.of(), false))
        .hasMessageMatching("(?s).*c\\.yaml:\\d+:5: buffer\\.memory\\.limit_mbi: unknown key.*");
  }

  @Test
  void load_badValues_nameKeyAndPosition() {
    assertThatThrownBy(() -> load(valid().replace("limit_mib: 8", "limit_mib: lots"), Map.of(), false))
        .hasMessageContaining("buffer.memory.limit_mib: 'lots' is not an integer");
    assertThatThrownBy(() -> load(valid().replace("reload_interval: 100ms", "reload_interval: soon"), Map.of(), false))
        .hasMessageContaining("tls.reload_interval");
    assertThatThrownBy(() -> load(valid().replace("provider: local", "provider: aws-kms"), Map.of(), false))
        .hasMessageContaining("buffer.spill.keys.provider").hasMessageContaining("not yet available");
    assertThatThrownBy(() -> load("receivers: [\n", Map.of(), false))
        .hasMessageContaining("not valid YAML");
  }

  @Test
  void load_missingCertificateFile_refusedNamingKey() {
    String yaml = valid().replaceFirst(java.util.regex.Pattern.quote(pki.serverKey.toString()), "/nonexistent/server.key");
    assertThatThrownBy(() -> load(yaml, Map.of(), false))
        .hasMessageContaining("receivers.otlp.protocols.grpc.tls.key_file")
        .hasMessageContaining("/nonexistent/server.key does not exist");
  }

  @Test
  void load_exporter_plaintextRefusedAndDefaultsFromArticle() throws Exception {
    String exp = "exporters:\n  otlp:\n    endpoint: http://127.0.0.1:4317\n";
    assertThatThrownBy(() -> load(valid() + exp, Map.of(), false)).hasMessageContaining("plaintext export is refused");
    String ok = "exporters:\n  otlp:\n    endpoint: collector.internal:4317\n    tls:\n      ca_file: " + pki.ca + "\n";
    ServerConfig c = load(valid() + ok, Map.of(), false);
    ServerConfig.Otlp o = c.exporter().otlp().get();
    assertThat(o.endpoint().toString()).isEqualTo("https://collector.internal:4317");
    assertThat(o.retry()).isEqualTo(ServerConfig.Retry.DEFAULT);
    String http = "exporters:\n  otlp:\n    protocol: http/protobuf\n    endpoint: https://tempo:4318\n";
    assertThat(load(valid() + http, Map.of(), false).exporter().otlp().get().endpoint().toString())
        .isEqualTo("https://tempo:4318/v1/traces");
  }
}
