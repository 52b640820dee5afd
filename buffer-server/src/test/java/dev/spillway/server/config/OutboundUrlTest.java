package dev.spillway.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringReader;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

class OutboundUrlTest {

  private static OutboundUrl parse(String url) throws ConfigException {
    YamlSection root = YamlSection.root("c.yaml", new Yaml().compose(new StringReader("{}")), n -> null, new ArrayList<>());
    return OutboundUrl.parse(root, "endpoint", url, url);
  }

  @Test
  void parse_defaultsThePortToTheScheme_keepsTheRawPath_dropsQueryAndUserInfo() throws Exception {
    assertThat(parse("https://backend.internal").toUri()).hasToString("https://backend.internal:443");
    assertThat(parse("HTTP://127.0.0.1/otlp").toUri()).hasToString("http://127.0.0.1:80/otlp");
    assertThat(parse("https://u:p@tempo:3200/a%20b/v1/traces?x=1#f").toUri())
        .hasToString("https://tempo:3200/a%20b/v1/traces");
  }

  @Test
  void parse_ipv6Literal_staysBracketed_andLoopbackIsRecognised() throws Exception {
    OutboundUrl v6 = parse("http://[::1]:4318/v1/logs");
    assertThat(v6.toUri()).hasToString("http://[::1]:4318/v1/logs");
    assertThat(v6.plaintext()).isTrue();
    assertThat(v6.loopback()).isTrue();
    assertThat(parse("https://192.0.2.1:4318").loopback()).isFalse();
  }

  @Test
  void withPathEnding_appendsTheSignalPathOnce() throws Exception {
    assertThat(parse("https://b:4318").withPathEnding("/v1/traces").toUri()).hasToString("https://b:4318/v1/traces");
    assertThat(parse("https://b:4318/otlp/").withPathEnding("/v1/traces").toUri())
        .hasToString("https://b:4318/otlp/v1/traces");
    assertThat(parse("https://b:4318/otlp/v1/traces").withPathEnding("/v1/traces").toUri())
        .hasToString("https://b:4318/otlp/v1/traces");
  }

  @Test
  void withDefaultScheme_asTheCollectorReadsAHostPort() {
    assertThat(OutboundUrl.withDefaultScheme(" backend:4317 ", false)).isEqualTo("https://backend:4317");
    assertThat(OutboundUrl.withDefaultScheme("backend:4317", true)).isEqualTo("http://backend:4317");
    assertThat(OutboundUrl.withDefaultScheme("https://backend:4317", true)).isEqualTo("https://backend:4317");
  }
}
