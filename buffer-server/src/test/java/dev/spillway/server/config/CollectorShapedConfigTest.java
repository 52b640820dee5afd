package dev.spillway.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue #14's collector-shaped configuration: the exporter names the collector 0.165 accepts,
 * every error with file, line, column and key, all errors of a file in one run, typos named with
 * the nearest known key, and a missing file with its reason.
 */
class CollectorShapedConfigTest {
  @TempDir Path dir;
  TestPki pki;

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
  }

  private ServerConfig load(String yaml) throws Exception {
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, yaml);
    return new ConfigLoader(n -> null, false).load(f);
  }

  private ConfigException error(String yaml) {
    return catchThrowableOfType(ConfigException.class, () -> load(yaml));
  }

  private String withExporter(String exporterYaml) {
    return TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), exporterYaml, 4 << 20);
  }

  private String exporter(String name, String endpoint) {
    return "exporters:\n  " + name + ":\n    endpoint: " + endpoint + "\n"
        + "    tls:\n      ca_file: " + pki.ca + "\n";
  }

  @ParameterizedTest
  @CsvSource({
      "otlp_grpc,           GRPC,          https://tempo.internal:4317, false",
      "otlp,                GRPC,          https://tempo.internal:4317, true",
      "otlp_grpc/tempo,     GRPC,          https://tempo.internal:4317, false",
      "otlp/tempo,          GRPC,          https://tempo.internal:4317, true",
      "otlp_http,           HTTP_PROTOBUF, https://tempo.internal:4318/v1/traces, false",
      "otlphttp,            HTTP_PROTOBUF, https://tempo.internal:4318/v1/traces, true",
      "otlp_http/backup-2,  HTTP_PROTOBUF, https://tempo.internal:4318/v1/traces, false",
      "otlphttp/backup,     HTTP_PROTOBUF, https://tempo.internal:4318/v1/traces, true",
  })
  void load_eachCollectorExporterName_selectsItsProtocol(String name, ServerConfig.Protocol protocol,
      String endpoint, boolean deprecated) throws Exception {
    String base = protocol == ServerConfig.Protocol.GRPC ? "https://tempo.internal:4317" : "https://tempo.internal:4318";
    ServerConfig c = load(withExporter(exporter(name, base)));
    ServerConfig.Otlp o = c.exporter().otlp().orElseThrow();
    assertThat(o.protocol()).isEqualTo(protocol);
    assertThat(o.endpoint()).hasToString(endpoint);
    String type = name.contains("/") ? name.substring(0, name.indexOf('/')) : name;
    if (deprecated) {
      assertThat(c.warnings()).anyMatch(w -> w.contains("exporters." + name) && w.contains(type + " still works"));
    } else {
      assertThat(c.warnings()).noneMatch(w -> w.contains("still works"));
    }
  }

  @Test
  void load_debugAsNamedInstance_usesTheDebugExporter() throws Exception {
    ServerConfig c = load(withExporter("exporters:\n  debug/local:\n    verbosity: basic\n"));
    assertThat(c.exporter().debug()).isTrue();
  }

  @Test
  void load_twoExporters_refusedNamingBoth() {
    ConfigException e = error(withExporter(exporter("otlp_grpc/a", "https://a:4317") + exporter("otlp_http/b", "https://b:4318")
        .replace("exporters:\n", "")));
    assertThat(e).hasMessageContaining("configure one exporter").hasMessageContaining("otlp_grpc/a, otlp_http/b");
  }

  @Test
  void load_instanceWithoutName_refusedAtItsKey() {
    ConfigException e = error(withExporter(exporter("otlp_grpc/", "https://a:4317")));
    assertThat(e).hasMessageMatching("(?s).*c\\.yaml:\\d+:\\d+: exporters\\.otlp_grpc/: a named exporter is TYPE/NAME.*");
  }

  @Test
  void load_misspelledExporterType_namesTheNearestType() {
    ConfigException e = error(withExporter(exporter("otlp_grcp", "https://a:4317")));
    assertThat(e).hasMessageContaining("exporters.otlp_grcp: unknown key; did you mean 'otlp_grpc'?");
  }

  @Test
  void load_threeErrorsInDifferentBlocks_reportsAllThreeWithPositionsInFileOrder() {
    String yaml = withExporter(exporter("otlp_grpc", "https://a:4317") + "    timeout: soon\n")
        .replace("max_recv_msg_size_mib: 4", "max_recv_msg_size_mib: lots")
        .replace("limit_mib: 8", "limit_mb: 8");
    ConfigException e = error(yaml);
    assertThat(e.problems()).hasSize(3);
    assertThat(e.problems().get(0)).matches(".*c\\.yaml:\\d+:\\d+: receivers\\.otlp\\.protocols\\.grpc\\.max_recv_msg_size_mib: 'lots' is not an integer");
    assertThat(e.problems().get(1)).matches(".*c\\.yaml:\\d+:\\d+: buffer\\.memory\\.limit_mb: unknown key; did you mean 'limit_mib'\\?");
    assertThat(e.problems().get(2)).matches(".*c\\.yaml:\\d+:\\d+: exporters\\.otlp_grpc\\.timeout: .*");
    assertThat(e).hasMessageStartingWith("3 errors:");
  }

  @Test
  void load_typoNextToRequiredClientCa_reportedAsUnknownKeyNotAsMissing() {
    String yaml = withExporter("").replaceFirst("client_ca_file:", "client_ca_fle:");
    ConfigException e = error(yaml);
    assertThat(e.problems()).hasSize(1);
    assertThat(e.problems().get(0))
        .matches(".*c\\.yaml:\\d+:11: receivers\\.otlp\\.protocols\\.grpc\\.tls\\.client_ca_fle: unknown key; did you mean 'client_ca_file'\\?");
  }

  @Test
  void load_missingFile_saysNoSuchFile() {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> new ConfigLoader(n -> null, false).load(dir.resolve("nope.yaml")));
    assertThat(e).hasMessageEndingWith("nope.yaml: cannot read the configuration: no such file");
  }

  @Test
  void load_directoryInsteadOfFile_saysSo() {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader(n -> null, false).load(dir));
    assertThat(e).hasMessageContaining("cannot read the configuration: it is a directory");
  }
}
