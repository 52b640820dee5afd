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
  void load_httpReadTimeoutAndMaxConnections_defaultsAndOverrides() throws Exception {
    ServerConfig defaults = load(valid(), Map.of(), false);
    assertThat(defaults.http().get().readTimeout()).isEqualTo(java.time.Duration.ofSeconds(30));
    assertThat(defaults.http().get().maxConnections()).isEqualTo(1024);
    String tuned = valid().replace("        max_request_body_size: ",
        "        read_timeout: 5s\n        max_connections: 200\n        max_request_body_size: ");
    ServerConfig c = load(tuned, Map.of(), false);
    assertThat(c.http().get().readTimeout()).isEqualTo(java.time.Duration.ofSeconds(5));
    assertThat(c.http().get().maxConnections()).isEqualTo(200);
    assertThatThrownBy(() -> load(tuned.replace("read_timeout: 5s", "read_timeout: 10ms"), Map.of(), false))
        .hasMessageContaining("receivers.otlp.protocols.http.read_timeout")
        .hasMessageContaining("at least 100ms");
    assertThatThrownBy(() -> load(tuned.replace("max_connections: 200", "max_connections: 0"), Map.of(), false))
        .hasMessageContaining("receivers.otlp.protocols.http.max_connections");
    // gRPC has no such keys: they are refused there, not silently ignored
    String onGrpc = valid().replace("        max_recv_msg_size_mib: ", "        read_timeout: 5s\n        max_recv_msg_size_mib: ");
    assertThatThrownBy(() -> load(onGrpc, Map.of(), false))
        .hasMessageContaining("receivers.otlp.protocols.grpc.read_timeout: unknown key");
  }

  @Test
  void load_badValues_nameKeyAndPosition() {
    assertThatThrownBy(() -> load(valid().replace("limit_mib: 8", "limit_mib: lots"), Map.of(), false))
        .hasMessageContaining("buffer.memory.limit_mib: 'lots' is not an integer");
    assertThatThrownBy(() -> load(valid().replace("reload_interval: 100ms", "reload_interval: soon"), Map.of(), false))
        .hasMessageContaining("tls.reload_interval");
    assertThatThrownBy(() -> load(valid().replace("provider: local", "provider: vault"), Map.of(), false))
        .hasMessageContaining("buffer.spill.keys.provider");
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

  private String withKeys(String keysBlock) {
    return TestConfigs.daemon(pki, dir.resolve("spill"), keysBlock, "", 4 << 20);
  }

  static final String ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  static final String OLD_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0000abcd-12ab-34cd-56ef-1234567890ab";

  @Test
  void load_awsKms_parsesKeyIdArnPreviousArnsAndDerivesRegionFromTheArn() throws Exception {
    ServerConfig c = load(withKeys("    keys:\n      provider: aws-kms\n      kms:\n"
        + "        key_id: alias/spillway\n        key_arn: " + ARN + "\n"
        + "        previous_key_arns: [" + OLD_ARN + "]\n        timeout: 3s\n        max_attempts: 2\n"
        + "      previous_reader_keysets: [old/reader.json]\n"), Map.of(), false);
    ServerConfig.Keys k = c.buffer().keys();
    assertThat(k.provider()).isEqualTo("aws-kms");
    ServerConfig.Kms kms = k.kms().orElseThrow();
    assertThat(kms.keyId()).contains("alias/spillway");
    assertThat(kms.keyArn()).contains(ARN);
    assertThat(kms.previousKeyArns()).containsExactly(OLD_ARN);
    assertThat(kms.region()).contains("eu-west-1");
    assertThat(kms.callTimeout()).isEqualTo(java.time.Duration.ofSeconds(3));
    assertThat(kms.maxAttempts()).isEqualTo(2);
    assertThat(k.previousReaderKeysets()).containsExactly(dir.resolve("old/reader.json"));
    assertThat(k.holdsReaderKeyMaterial()).isTrue();
  }

  @Test
  void load_awsKms_refusesAliasAsReaderArn_localKeysetsAndMissingKmsBlock() {
    assertThatThrownBy(() -> load(withKeys("    keys:\n      provider: aws-kms\n      kms:\n"
        + "        key_arn: alias/spillway\n"), Map.of(), false))
        .hasMessageContaining("buffer.spill.keys.kms.key_arn").hasMessageContaining("full key ARN");
    assertThatThrownBy(() -> load(withKeys("    keys:\n      provider: aws-kms-rsa\n"), Map.of(), false))
        .hasMessageContaining("needs a kms block");
    assertThatThrownBy(() -> load(withKeys("    keys:\n      provider: aws-kms\n      writer_keyset: w.json\n"
        + "      kms:\n        key_id: alias/x\n"), Map.of(), false))
        .hasMessageContaining("writer_keyset").hasMessageContaining("is for provider local");
    assertThatThrownBy(() -> load(withKeys("    keys:\n      provider: local\n      writer_keyset: w.json\n"
        + "      kms:\n        key_id: alias/x\n"), Map.of(), false))
        .hasMessageContaining("provider is local");
  }

  @Test
  void load_plaintextKmsEndpoint_needsInsecureDevAndLoopback() throws Exception {
    String local = withKeys("    keys:\n      provider: aws-kms\n      kms:\n        key_arn: " + ARN + "\n"
        + "        endpoint: http://127.0.0.1:4566\n");
    assertThatThrownBy(() -> load(local, Map.of(), false)).hasMessageContaining("plaintext http:// KMS endpoint is refused");
    assertThat(load(local, Map.of(), true).warnings()).anyMatch(w -> w.contains("KMS endpoint") && w.contains("PLAINTEXT"));
    String remote = local.replace("127.0.0.1:4566", "kms.example.com");
    assertThatThrownBy(() -> load(remote, Map.of(), true)).hasMessageContaining("loopback KMS only");
    String https = local.replace("http://127.0.0.1:4566", "https://vpce-1.kms.eu-west-1.vpce.amazonaws.com");
    assertThat(load(https, Map.of(), false).buffer().keys().kms().orElseThrow().endpoint()).isPresent();
  }

  @Test
  void load_passphraseFileWithoutAReaderKeyset_refused() throws Exception {
    Path pass = dir.resolve("pass");
    Files.writeString(pass, "a long enough passphrase");
    assertThatThrownBy(() -> load(withKeys(TestConfigs.localKeys(dir.resolve("w.json"), null)
        + "      reader_keyset_passphrase_file: " + pass + "\n"), Map.of(), false))
        .hasMessageContaining("no reader keyset to open with it");
  }

  @Test
  void load_sendingQueueNumConsumers_defaultOverrideAndOutOfRangeWithPosition() throws Exception {
    String exp = "exporters:\n  otlp_grpc:\n    endpoint: collector.internal:4317\n    tls:\n      ca_file: "
        + pki.ca + "\n";
    assertThat(load(valid() + exp, Map.of(), false).exporter().otlp().get().numConsumers())
        .isEqualTo(ServerConfig.Otlp.DEFAULT_NUM_CONSUMERS);
    String eight = exp + "    sending_queue:\n      enabled: true\n      num_consumers: 8\n      queue_size: 1000\n";
    assertThat(load(valid() + eight, Map.of(), false).exporter().otlp().get().numConsumers()).isEqualTo(8);

    for (String bad : new String[] {"0", "65", "many"}) {
      String yaml = valid() + exp + "    sending_queue:\n      num_consumers: " + bad + "\n";
      long line = yaml.lines().takeWhile(l -> !l.contains("num_consumers")).count() + 1;
      assertThatThrownBy(() -> load(yaml, Map.of(), false))
          .as("num_consumers: %s", bad)
          .hasMessageContaining("c.yaml:" + line + ":")
          .hasMessageContaining("exporters.otlp_grpc.sending_queue.num_consumers")
          .hasMessageContaining(bad.equals("many") ? "is not an integer" : "between 1 and 64");
    }
  }
}
