package dev.spillway.server.audit;

import static dev.spillway.server.audit.AuditTesting.auditFixtures;
import static dev.spillway.server.audit.AuditTesting.expected;
import static dev.spillway.server.audit.AuditTesting.fixture;
import static dev.spillway.server.audit.AuditTesting.fixtureEnvironment;
import static dev.spillway.server.audit.AuditTesting.outcomes;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every rule against good and bad fixture files: each row is a fixture (or a pair audited
 * together) and the exact findings it must produce, as RULE-ID:severity.
 */
class RuleFixturesTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      sdk/good.env                          |
      sdk/grpc-schemeless-explicit.env      |
      sdk/http-endpoint.env                 | P1-HTTP-ENDPOINT:fail
      sdk/no-endpoint.env                   | P1-HTTP-ENDPOINT:warn
      sdk/insecure-true.env                 | P1-INSECURE:fail
      sdk/insecure-true-https.env           | P1-INSECURE:warn
      sdk/insecure-implicit.env             | P1-INSECURE-IMPLICIT:warn
      sdk/no-ca.env                         | P1-CA-MISSING:warn
      sdk/no-client-key.env                 | P1-CLIENT-CERT-MISSING:fail
      """)
  void sdkEnv_fixture_producesExactlyTheseFindings(String file, String findings) {
    assertThat(outcomes(auditFixtures(file.trim()))).isEqualTo(expected(findings));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      collector/good.yaml                   |
      collector/rx-no-tls.yaml              | RX-NO-TLS:fail
      collector/rx-no-tls-null.yaml         | RX-NO-TLS:warn
      collector/rx-no-tls-loopback.yaml     | RX-NO-TLS:warn
      collector/rx-no-client-ca.yaml        | RX-NO-CLIENT-CA:fail
      collector/exporter-http.yaml          | P1-HTTP-ENDPOINT:fail
      collector/exporter-insecure.yaml      | P1-INSECURE:fail
      collector/exporter-skip-verify.yaml   | P1-INSECURE:warn
      collector/exporter-no-ca.yaml         | P1-CA-MISSING:warn
      collector/exporter-no-client-cert.yaml | P1-CLIENT-CERT-MISSING:warn
      collector/no-memory-limiter.yaml      | P2-MEMORY-LIMITER:warn
      collector/limiter-after-batch.yaml    | P2-MEMORY-LIMITER:warn
      collector/file-storage-queue.yaml     | P2-PLAINTEXT-QUEUE:fail P2-SPILL-MOUNT:fail
      collector/file-storage-queue-encrypted.yaml | P2-PLAINTEXT-QUEUE:warn P2-SPILL-MOUNT:pass
      """)
  void collectorConfig_fixture_producesExactlyTheseFindings(String file, String findings) {
    assertThat(outcomes(auditFixtures(file.trim()))).isEqualTo(expected(findings));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      spillway/good.yaml                    | P2-SPILL-MOUNT:pass
      spillway/client-auth-none.yaml        | RX-NO-CLIENT-CA:fail RX-NO-CLIENT-CA:fail P2-SPILL-MOUNT:pass
      spillway/spill-plain.yaml             | P2-SPILL-MOUNT:fail
      spillway/spill-tmpfs.yaml             | P2-SPILL-MOUNT:warn
      spillway/spill-overlay.yaml           | P2-SPILL-MOUNT:warn
      spillway/exporter-http.yaml           | P1-HTTP-ENDPOINT:fail P2-SPILL-MOUNT:pass
      """)
  void spillwayConfig_fixture_producesExactlyTheseFindings(String file, String findings) {
    assertThat(outcomes(auditFixtures(file.trim()))).isEqualTo(expected(findings));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      tempo/good.yaml                       | P2-SPILL-MOUNT:pass P3-TEMPO-SSE:pass
      tempo/article-sse-kms.yaml            | P3-TEMPO-SSE-KMS-BLOCK:fail P3-TEMPO-SSE:fail
      tempo/no-sse.yaml                     | P3-TEMPO-SSE:fail
      tempo/sse-s3.yaml                     | P2-SPILL-MOUNT:pass P3-TEMPO-SSE:warn
      tempo/sse-kms-no-key.yaml             | P2-SPILL-MOUNT:pass P3-TEMPO-SSE:warn
      tempo/sse-bad-type.yaml               | P2-SPILL-MOUNT:pass P3-TEMPO-SSE:fail
      tempo/s3-insecure.yaml                | P1-INSECURE:fail P2-SPILL-MOUNT:pass P3-TEMPO-SSE:pass
      tempo/wal-plain.yaml                  | P2-SPILL-MOUNT:fail P3-TEMPO-SSE:pass
      tempo/local-backend.yaml              | P2-SPILL-MOUNT:pass
      """)
  void tempoConfig_fixture_producesExactlyTheseFindings(String file, String findings) {
    assertThat(outcomes(auditFixtures(file.trim()))).isEqualTo(expected(findings));
  }

  /** Each policy judged in the role the user names: the file itself, or the principals' ARNs. */
  @ParameterizedTest(name = "{0} as {1}")
  @CsvSource(delimiter = '|', textBlock = """
      iam/writer-good.json                  | writer |
      iam/writer-star-with-deny.json        | writer |
      iam/writer-rsa.json                   | writer |
      iam/reader.json                       | reader |
      iam/key-policy-good.json              | keys   |
      iam/writer-decrypt.json               | writer | P3-IAM-WRITER-DECRYPT:fail
      iam/writer-kms-star.json              | writer | P3-IAM-WRITER-DECRYPT:fail
      iam/writer-notaction.json             | writer | P3-IAM-WRITER-DECRYPT:fail
      iam/writer-conditional-deny.json      | writer | P3-IAM-WRITER-DECRYPT:fail
      iam/key-policy.json                   | keys   | P3-IAM-WRITER-DECRYPT:fail
      iam/writer-without-plaintext-only.json | writer | P3-IAM-WRITER-GENERATE:fail
      iam/writer-no-generate.json           | writer | P3-IAM-WRITER-GENERATE:fail
      iam/writer-no-deny.json               | writer | P3-IAM-WRITER-DENY:warn
      iam/writer-good.json                  | reader | P3-IAM-READER-DECRYPT:fail
      iam/writer-good.json                  | none   | P3-IAM-ROLE:unknown
      iam/key-policy.json                   | none   | P3-IAM-ROLE:unknown
      """)
  void iamPolicy_fixture_producesExactlyTheseFindings(String file, String role, String findings) {
    String path = fixture(file.trim()).toString();
    Audit.Roles roles = switch (role.trim()) {
      case "writer" -> new Audit.Roles(Set.of(path), Set.of());
      case "reader" -> new Audit.Roles(Set.of(), Set.of(path));
      case "keys" -> new Audit.Roles(Set.of("arn:aws:iam::123456789012:role/spillway-ingest"),
          Set.of("arn:aws:iam::123456789012:role/spillway-drain"));
      default -> Audit.Roles.none();
    };
    Audit.Request request = new Audit.Request(List.of(fixture(file.trim())), List.of(), List.of(), List.of(),
        Set.of(), roles, Audit.Suppressions.none());
    assertThat(outcomes(new Audit(fixtureEnvironment()).run(request))).isEqualTo(expected(findings));
  }

  @ParameterizedTest(name = "{0} + {1}")
  @CsvSource(delimiter = '|', textBlock = """
      sdk/good.env          | collector/good.yaml           |
      sdk/good.env          | spillway/good.yaml            | P2-SPILL-MOUNT:pass
      sdk/good.env          | collector/rx-no-tls.yaml      | RX-NO-TLS:fail PIT-CA-ONE-SIDE:fail
      sdk/good.env          | collector/rx-no-client-ca.yaml | RX-NO-CLIENT-CA:fail
      sdk/no-ca.env         | collector/good.yaml           | P1-CA-MISSING:warn PIT-CA-ONE-SIDE:fail
      sdk/no-client-key.env | collector/good.yaml           | P1-CLIENT-CERT-MISSING:fail PIT-CA-ONE-SIDE:fail
      sdk/grpc-schemeless-explicit.env | collector/rx-no-tls.yaml | RX-NO-TLS:fail
      """)
  // The SDKs here send to port 4318: only the receivers' http protocol is compared (the grpc one of
  // rx-no-client-ca.yaml, without client_ca_file, is its own RX finding, not a pairing one).
  void sdkWithReceiver_pair_producesExactlyTheseFindings(String sdk, String receiver, String findings) {
    Audit.Request request = new Audit.Request(List.of(), List.of(),
        List.of(List.of(fixture(sdk.trim()), fixture(receiver.trim()))), List.of(), Set.of(), Audit.Roles.none(),
        Audit.Suppressions.none());
    assertThat(outcomes(new Audit(fixtureEnvironment()).run(request))).isEqualTo(expected(findings));
  }
}
