package dev.spillway.server.audit;

import static dev.spillway.server.audit.AuditTesting.command;
import static dev.spillway.server.audit.AuditTesting.fixture;
import static dev.spillway.server.audit.AuditTesting.fixtureEnvironment;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.audit.AuditTesting.CommandRun;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The command line: exit codes, input errors, and the three formats parsed back. */
class AuditCommandTest {

  private static String f(String relative) {
    return fixture(relative).toString();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> parseJson(String text) {
    return (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
  }

  @Test
  void run_allGood_exitsZero() {
    CommandRun r = command(fixtureEnvironment(), f("sdk/good.env"), f("collector/good.yaml"),
        f("tempo/good.yaml"), f("iam/writer-good.json"), f("spillway/good.yaml"));
    assertThat(r.exitCode()).as(r.out()).isZero();
    assertThat(r.out()).contains("0 fail").contains("exit 0");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void run_onlyWarnings_exitsZero() {
    CommandRun r = command(fixtureEnvironment(), f("sdk/no-ca.env"));
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("WARN  P1-CA-MISSING");
  }

  @Test
  void run_anyFailingFinding_exitsOne() {
    CommandRun r = command(fixtureEnvironment(), f("collector/good.yaml"), f("tempo/no-sse.yaml"));
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).contains("FAIL  P3-TEMPO-SSE").contains("Leakage point 3");
  }

  @Test
  void run_skipRule_dropsItsFindings() {
    CommandRun r = command(fixtureEnvironment(), "--skip", "P3-TEMPO-SSE", f("tempo/no-sse.yaml"));
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).doesNotContain("P3-TEMPO-SSE ");
  }

  @Test
  void run_missingFile_exitsTwoAndNamesIt() {
    CommandRun r = command(fixtureEnvironment(), f("collector/good.yaml"), "/nonexistent/otelcol.yaml");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("/nonexistent/otelcol.yaml: no such file");
  }

  @Test
  void run_unparseableYaml_exitsTwoWithLine(@TempDir Path dir) throws IOException {
    Path bad = dir.resolve("otelcol.yaml");
    Files.writeString(bad, "receivers:\n  otlp:\n    protocols: [grpc\n  exporters: {}\n");
    CommandRun r = command(fixtureEnvironment(), bad.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains(bad.toString()).contains("cannot parse as YAML/JSON at line");
  }

  @Test
  void run_duplicateKey_exitsTwo(@TempDir Path dir) throws IOException {
    Path bad = dir.resolve("otelcol.yaml");
    Files.writeString(bad, "receivers: {}\nreceivers: {}\n");
    assertThat(command(fixtureEnvironment(), bad.toString()).exitCode()).isEqualTo(2);
  }

  @Test
  void run_unrecognisedKind_exitsTwo(@TempDir Path dir) throws IOException {
    Path other = dir.resolve("dashboard.json");
    Files.writeString(other, "{\"panels\": []}");
    CommandRun r = command(fixtureEnvironment(), other.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("cannot tell what kind of file this is");
  }

  @Test
  void run_brokenEnvFile_exitsTwoNamingTheLine() {
    CommandRun r = command(fixtureEnvironment(), f("sdk/broken.env"));
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("broken.env").contains("line 2 is not KEY=VALUE");
    CommandRun q = command(fixtureEnvironment(), f("sdk/unterminated.env"));
    assertThat(q.exitCode()).isEqualTo(2);
    assertThat(q.err()).contains("unterminated quote");
  }

  @Test
  void run_inputErrorAndFailure_exitsThree() {
    CommandRun r = command(fixtureEnvironment(), f("tempo/no-sse.yaml"), "/nonexistent.env");
    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.out()).contains("P3-TEMPO-SSE");
  }

  @Test
  void run_inputErrorWithoutFailure_exitsTwo() {
    CommandRun r = command(fixtureEnvironment(), f("sdk/good.env"), "/nonexistent.env");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("/nonexistent.env: no such file");
  }

  @Test
  void run_badArguments_exitTwoWithUsage() {
    assertThat(command(fixtureEnvironment()).exitCode()).isEqualTo(2);
    assertThat(command(fixtureEnvironment(), "--format", "xml", f("sdk/good.env")).exitCode()).isEqualTo(2);
    assertThat(command(fixtureEnvironment(), "--bogus", f("sdk/good.env")).exitCode()).isEqualTo(2);
    assertThat(command(fixtureEnvironment(), "--skip", "NOPE-1", f("sdk/good.env")).exitCode()).isEqualTo(2);
    CommandRun r = command(fixtureEnvironment(), "--probe");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("usage: spillway audit");
    assertThat(command(fixtureEnvironment(), "--probe", "no-port", f("sdk/good.env")).exitCode()).isEqualTo(2);
    assertThat(command(fixtureEnvironment(), "--help").exitCode()).isZero();
  }

  @Test
  void run_textFormat_hasNoColourWhenNotATerminal() {
    CommandRun r = command(fixtureEnvironment(), f("tempo/no-sse.yaml"));
    assertThat(r.out()).doesNotContain("\u001b[");
  }

  @Test
  @SuppressWarnings("unchecked")
  void run_jsonFormat_parsesBackWithEveryField() {
    CommandRun r = command(fixtureEnvironment(), "--format=json", f("sdk/http-endpoint.env"),
        f("tempo/article-sse-kms.yaml"), "/nonexistent.yaml");
    assertThat(r.exitCode()).isEqualTo(3);
    Map<String, Object> doc = parseJson(r.out());
    assertThat(doc.get("exitCode")).isEqualTo(3);
    assertThat((Map<String, Object>) doc.get("summary")).containsEntry("fail", 3).containsEntry("errors", 1);
    List<Map<String, Object>> findings = (List<Map<String, Object>>) doc.get("findings");
    assertThat(findings).extracting(m -> m.get("rule"))
        .containsExactly("P1-HTTP-ENDPOINT", "P3-TEMPO-SSE", "P3-TEMPO-SSE-KMS-BLOCK");
    Map<String, Object> first = findings.get(0);
    assertThat(first).containsEntry("point", "1").containsEntry("severity", "fail")
        .containsEntry("key", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").containsEntry("line", 2)
        .containsKeys("file", "message", "fix");
    Map<String, Object> block = findings.get(2);
    assertThat(block).containsEntry("key", "storage.trace.s3.sse_kms").containsEntry("line", 8);
    assertThat((String) block.get("message")).contains("sse: {type: SSE-KMS, kms_key_id");
    assertThat((List<Map<String, Object>>) doc.get("errors")).singleElement()
        .satisfies(e -> assertThat(e).containsEntry("input", "/nonexistent.yaml").containsEntry("reason", "no such file"));
    assertThat((List<Map<String, Object>>) doc.get("inputs")).hasSize(2);
  }

  @Test
  @SuppressWarnings("unchecked")
  void run_sarifFormat_isAMinimalValidSarif210Log() {
    CommandRun r = command(fixtureEnvironment(), "--format", "sarif", f("collector/rx-no-tls.yaml"),
        f("spillway/good.yaml"));
    assertThat(r.exitCode()).isEqualTo(1);
    Map<String, Object> log = parseJson(r.out());
    assertThat(log).containsEntry("version", "2.1.0").containsKey("$schema");
    List<Map<String, Object>> runs = (List<Map<String, Object>>) log.get("runs");
    assertThat(runs).hasSize(1);
    Map<String, Object> run = runs.get(0);
    Map<String, Object> driver = (Map<String, Object>) ((Map<String, Object>) run.get("tool")).get("driver");
    assertThat(driver).containsEntry("name", "spillway audit");
    List<Map<String, Object>> rules = (List<Map<String, Object>>) driver.get("rules");
    List<Object> ruleIds = rules.stream().map(m -> m.get("id")).collect(Collectors.toList());
    assertThat(ruleIds).hasSize(Rule.values().length).doesNotHaveDuplicates();
    List<Map<String, Object>> results = (List<Map<String, Object>>) run.get("results");
    Set<String> levels = Set.of("error", "warning", "note", "none");
    List<String> seen = new ArrayList<>();
    for (Map<String, Object> res : results) {
      String id = (String) res.get("ruleId");
      seen.add(id + ":" + res.get("level"));
      assertThat(ruleIds.get((Integer) res.get("ruleIndex"))).isEqualTo(id);
      assertThat(levels).contains((String) res.get("level"));
      assertThat((Map<String, Object>) res.get("message")).containsKey("text");
      Map<String, Object> loc = ((List<Map<String, Object>>) res.get("locations")).get(0);
      Map<String, Object> phys = (Map<String, Object>) loc.get("physicalLocation");
      assertThat((String) ((Map<String, Object>) phys.get("artifactLocation")).get("uri")).startsWith("file:///");
      assertThat((Integer) ((Map<String, Object>) phys.get("region")).get("startLine")).isPositive();
    }
    assertThat(seen).containsExactlyInAnyOrder("RX-NO-TLS:error", "P2-SPILL-MOUNT:none");
    Map<String, Object> invocation = ((List<Map<String, Object>>) run.get("invocations")).get(0);
    assertThat(invocation).containsEntry("executionSuccessful", true);
  }

  @Test
  void sarifUri_pathWithSpaces_isEscaped() {
    assertThat(Reports.uri("ops/my configs/otel col.yaml")).isEqualTo("ops/my%20configs/otel%20col.yaml");
    assertThat(Reports.uri("/etc/otelcol/config.yaml")).isEqualTo("file:///etc/otelcol/config.yaml");
  }

  @Test
  void run_fileKinds_recognisedByContentNotName(@TempDir Path dir) throws IOException {
    Path env = dir.resolve("settings.txt");
    Files.writeString(env, Files.readString(fixture("sdk/no-ca.env"), StandardCharsets.UTF_8));
    Path collector = dir.resolve("anything.yml");
    Files.writeString(collector, Files.readString(fixture("collector/rx-no-tls.yaml")));
    Path iam = dir.resolve("policy.txt");
    Files.writeString(iam, Files.readString(fixture("iam/writer-decrypt.json")));
    CommandRun r = command(fixtureEnvironment(), "--format", "json", "--writer-role", iam.toString(), env.toString(),
        collector.toString(), iam.toString());
    assertThat(r.out()).contains("\"kind\": \"SDK environment file\"").contains("\"kind\": \"collector config\"")
        .contains("\"kind\": \"IAM policy\"");
    assertThat(r.out()).contains("P1-CA-MISSING").contains("RX-NO-TLS").contains("P3-IAM-WRITER-DECRYPT");
  }
}
