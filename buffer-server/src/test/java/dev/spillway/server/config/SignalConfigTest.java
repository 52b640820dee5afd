package dev.spillway.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.spillway.server.receive.OtlpWire;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The signal settings in the collector's shape: {@code service.pipelines} chooses the accepted
 * signals, {@code otlp_http} has per-signal URLs ({@code traces_endpoint}, {@code
 * metrics_endpoint}, {@code logs_endpoint}); errors name file:line:col:key.
 */
class SignalConfigTest {
  @TempDir Path dir;
  TestPki pki;

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
  }

  private ServerConfig load(String yaml) throws Exception {
    return load(yaml, false);
  }

  private ServerConfig load(String yaml, boolean insecureDev) throws Exception {
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, yaml);
    return new ConfigLoader(n -> null, insecureDev).load(f);
  }

  private ConfigException error(String yaml) {
    return catchThrowableOfType(ConfigException.class, () -> load(yaml));
  }

  private String config(String exporterYaml, String service) {
    return TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), exporterYaml, 4 << 20) + service;
  }

  private String http(String extra) {
    return "exporters:\n  otlp_http/backend:\n    endpoint: https://backend.internal:4318\n"
        + "    tls:\n      ca_file: " + pki.ca + "\n" + extra;
  }

  @Test
  void load_noServiceBlock_acceptsAllThreeSignals() throws Exception {
    assertThat(load(config("", "")).signals()).isEqualTo(EnumSet.allOf(OtlpWire.Signal.class));
  }

  @Test
  void load_pipelines_acceptOnlyTheNamedSignals() throws Exception {
    ServerConfig c = load(config(http(""), "service:\n  pipelines:\n"
        + "    traces:\n      receivers: [otlp]\n      exporters: [otlp_http/backend]\n"
        + "    logs/audit:\n      receivers: [otlp]\n      exporters: [otlp_http/backend]\n"));
    assertThat(c.signals()).containsExactlyInAnyOrder(OtlpWire.Signal.TRACES, OtlpWire.Signal.LOGS);
  }

  @Test
  void load_pipelineErrors_allReportedWithPositionAndKey() {
    ConfigException e = error(config(http(""), "service:\n  pipelines:\n"
        + "    traces:\n      receivers: [jaeger]\n      exporters: [otlp_http/backend]\n"
        + "    metrics:\n      receivers: [otlp]\n      processors: [batch]\n      exporters: [otlp_grpc]\n"
        + "    logz:\n      receivers: [otlp]\n      exporters: [otlp_http/backend]\n"));
    assertThat(e.problems()).hasSize(4);
    assertThat(e.problems().get(0)).matches(".*c\\.yaml:\\d+:\\d+: service\\.pipelines\\.traces\\.receivers: must be \\[otlp\\].*");
    assertThat(e.problems()).anyMatch(p -> p.matches(
        ".*c\\.yaml:\\d+:\\d+: service\\.pipelines\\.metrics\\.exporters: must name the one configured exporter, \\[otlp_http/backend\\]"));
    assertThat(e.problems()).anyMatch(p -> p.matches(
        ".*c\\.yaml:\\d+:\\d+: service\\.pipelines\\.metrics\\.processors: Spillway runs no processors.*"));
    assertThat(e.problems()).anyMatch(p -> p.matches(
        ".*c\\.yaml:\\d+:\\d+: service\\.pipelines\\.logz: unknown key; did you mean 'logs'\\?"));
  }

  @Test
  void load_otlpHttp_signalUrlsFromEndpoint_overridesUsedAsGiven() throws Exception {
    ServerConfig.Otlp plain = load(config(http(""), "")).exporter().otlp().orElseThrow();
    assertThat(plain.httpEndpoint(OtlpWire.Signal.TRACES)).hasToString("https://backend.internal:4318/v1/traces");
    assertThat(plain.httpEndpoint(OtlpWire.Signal.METRICS)).hasToString("https://backend.internal:4318/v1/metrics");
    assertThat(plain.httpEndpoint(OtlpWire.Signal.LOGS)).hasToString("https://backend.internal:4318/v1/logs");

    ServerConfig.Otlp o = load(config(http("    logs_endpoint: https://loki.internal:3100/otlp/v1/logs\n"
        + "    metrics_endpoint: https://mimir.internal/otlp/v1/metrics\n"), "")).exporter().otlp().orElseThrow();
    assertThat(o.httpEndpoint(OtlpWire.Signal.TRACES)).hasToString("https://backend.internal:4318/v1/traces");
    assertThat(o.httpEndpoint(OtlpWire.Signal.METRICS)).hasToString("https://mimir.internal:443/otlp/v1/metrics");
    assertThat(o.httpEndpoint(OtlpWire.Signal.LOGS)).hasToString("https://loki.internal:3100/otlp/v1/logs");
  }

  @Test
  void load_signalEndpointErrors_namedWithPosition() {
    ConfigException plaintext = error(config(http("    logs_endpoint: http://loki.internal:3100/otlp/v1/logs\n"), ""));
    assertThat(plaintext.problems()).singleElement().asString()
        .matches(".*c\\.yaml:\\d+:\\d+: exporters\\.otlp_http/backend\\.logs_endpoint: plaintext export is refused.*");
    ConfigException onGrpc = error(config("exporters:\n  otlp_grpc:\n    endpoint: https://a:4317\n"
        + "    tls:\n      ca_file: " + pki.ca + "\n    metrics_endpoint: https://a:4318/v1/metrics\n", ""));
    assertThat(onGrpc.problems()).singleElement().asString()
        .matches(".*c\\.yaml:\\d+:\\d+: exporters\\.otlp_grpc\\.metrics_endpoint: is an otlp_http setting.*");
  }

  @Test
  void load_plaintextSignalEndpoint_devModeOnLoopbackOnly_andWarned() throws Exception {
    String loopback = config(http("    logs_endpoint: http://127.0.0.1:3100/otlp/v1/logs\n"), "");
    ServerConfig c = load(loopback, true);
    assertThat(c.exporter().otlp().orElseThrow().httpEndpoint(OtlpWire.Signal.LOGS))
        .hasToString("http://127.0.0.1:3100/otlp/v1/logs");
    assertThat(c.warnings())
        .contains("exporter sends PLAINTEXT to http://127.0.0.1:3100/otlp/v1/logs (logs_endpoint, insecure development mode)");

    ConfigException remote = catchThrowableOfType(ConfigException.class,
        () -> load(loopback.replace("127.0.0.1:3100", "loki.internal:3100"), true));
    assertThat(remote.problems()).singleElement().asString()
        .matches(".*c\\.yaml:\\d+:\\d+: exporters\\.otlp_http/backend\\.logs_endpoint: the insecure development mode exports to loopback only");
  }

  @Test
  void load_signalEndpointNotAnHttpsUrl_saysWhichPartIsWrong() {
    assertThat(error(config(http("    traces_endpoint: ftp://tempo.internal/v1/traces\n"), "")).problems())
        .singleElement().asString().endsWith("traces_endpoint: scheme must be https (or http in the development mode)");
    assertThat(error(config(http("    traces_endpoint: https:///v1/traces\n"), "")).problems())
        .singleElement().asString().endsWith("traces_endpoint: 'https:///v1/traces' has no host");
    assertThat(error(config(http("    traces_endpoint: 'https://tempo internal/v1/traces'\n"), "")).problems())
        .singleElement().asString().endsWith("traces_endpoint: 'https://tempo internal/v1/traces' is not a URL");
  }
}
