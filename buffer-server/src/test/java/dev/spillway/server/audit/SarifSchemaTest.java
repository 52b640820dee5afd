package dev.spillway.server.audit;

import static dev.spillway.server.audit.AuditTesting.command;
import static dev.spillway.server.audit.AuditTesting.fixture;
import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SARIF output validated against the OASIS SARIF 2.1.0 JSON schema (audit/sarif, see
 * SOURCE.tsv there), with every kind of result the audit produces: fail, warn, unknown, pass,
 * suppressed, input errors, layered and embedded inputs.
 */
class SarifSchemaTest {

  private static Schema sarif;

  @BeforeAll
  static void loadSchema() throws IOException {
    String text = Files.readString(fixture("sarif/sarif-schema-2.1.0.json"), StandardCharsets.UTF_8);
    sarif = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4).getSchema(text, InputFormat.JSON);
  }

  @Test
  void sarif_everyKindOfResult_validAgainstTheSchema(@TempDir Path dir) throws IOException {
    Path baseline = dir.resolve("baseline.tsv");
    Files.writeString(baseline, "RX-NO-TLS\t" + fixture("collector/rx-no-tls.yaml")
        + "\treceivers.otlp.protocols.http\tlab collector, loopback firewall, ticket OPS-12\n");
    AuditTesting.CommandRun r = command(AuditTesting.ciEnvironment(), "--format", "sarif",
        "--baseline", baseline.toString(),
        "--config", fixture("corpus/otel-demo/otelcol-config.yml").toString(),
        "--config", fixture("corpus/otel-demo/otelcol-config-observability.yml").toString(),
        fixture("collector/rx-no-tls.yaml").toString(), fixture("tempo/good.yaml").toString(),
        fixture("corpus/lgtm").toString(), fixture("corpus/helm-otlp-traces/rendered-configmap.yaml").toString(),
        fixture("iam/writer-good.json").toString(), "/nonexistent.yaml");
    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.out()).contains("\"kind\": \"review\"").contains("\"kind\": \"pass\"")
        .contains("\"suppressions\"").contains("\"level\": \"warning\"").contains("\"level\": \"error\"");
    List<Error> errors = sarif.validate(r.out(), InputFormat.JSON);
    assertThat(errors).as(r.out()).isEmpty();
  }

  @Test
  void sarif_schema_rejectsALogWithAnUnknownLevel() {
    // The validator is live: the same shape with a level SARIF does not define is refused.
    AuditTesting.CommandRun r = command(AuditTesting.ciEnvironment(), "--format", "sarif",
        fixture("collector/rx-no-tls.yaml").toString());
    String broken = r.out().replace("\"level\": \"error\"", "\"level\": \"fatal\"");
    assertThat(broken).isNotEqualTo(r.out());
    assertThat(sarif.validate(broken, InputFormat.JSON)).isNotEmpty();
  }
}
