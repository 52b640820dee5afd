package dev.spillway.server.audit;

import static dev.spillway.server.audit.AuditTesting.auditFixtures;
import static dev.spillway.server.audit.AuditTesting.expected;
import static dev.spillway.server.audit.AuditTesting.outcomes;
import static org.assertj.core.api.Assertions.assertThat;

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
      sdk/no-endpoint.env                   | P1-HTTP-ENDPOINT:fail
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
      collector/rx-no-tls-null.yaml         | RX-NO-TLS:fail
      collector/rx-no-tls-loopback.yaml     | RX-NO-TLS:warn
      collector/rx-no-client-ca.yaml        | RX-NO-CLIENT-CA:fail
      collector/exporter-http.yaml          | P1-HTTP-ENDPOINT:fail
      collector/exporter-insecure.yaml      | P1-INSECURE:fail
      collector/exporter-skip-verify.yaml   | P1-INSECURE:warn
      collector/exporter-no-ca.yaml         | P1-CA-MISSING:warn
      collector/exporter-no-client-cert.yaml | P1-CLIENT-CERT-MISSING:warn
      collector/no-memory-limiter.yaml      | P2-MEMORY-LIMITER:fail
      collector/limiter-after-batch.yaml    | P2-MEMORY-LIMITER:fail
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

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      iam/writer-good.json                  |
      iam/writer-star-with-deny.json        |
      iam/writer-rsa.json                   |
      iam/reader.json                       |
      iam/key-policy-good.json              |
      iam/writer-decrypt.json               | P3-IAM-WRITER-DECRYPT:fail
      iam/writer-kms-star.json              | P3-IAM-WRITER-DECRYPT:fail
      iam/writer-notaction.json             | P3-IAM-WRITER-DECRYPT:fail
      iam/writer-conditional-deny.json      | P3-IAM-WRITER-DECRYPT:fail
      iam/key-policy.json                   | P3-IAM-WRITER-DECRYPT:fail
      iam/writer-without-plaintext-only.json | P3-IAM-WRITER-GENERATE:fail
      iam/writer-no-generate.json           | P3-IAM-WRITER-GENERATE:fail
      iam/writer-no-deny.json               | P3-IAM-WRITER-DENY:warn
      """)
  void iamPolicy_fixture_producesExactlyTheseFindings(String file, String findings) {
    assertThat(outcomes(auditFixtures(file.trim()))).isEqualTo(expected(findings));
  }

  @ParameterizedTest(name = "{0} + {1}")
  @CsvSource(delimiter = '|', textBlock = """
      sdk/good.env          | collector/good.yaml           |
      sdk/good.env          | spillway/good.yaml            | P2-SPILL-MOUNT:pass
      sdk/good.env          | collector/rx-no-tls.yaml      | RX-NO-TLS:fail PIT-CA-ONE-SIDE:fail
      sdk/good.env          | collector/rx-no-client-ca.yaml | RX-NO-CLIENT-CA:fail PIT-CA-ONE-SIDE:fail
      sdk/no-ca.env         | collector/good.yaml           | P1-CA-MISSING:warn PIT-CA-ONE-SIDE:fail PIT-CA-ONE-SIDE:fail
      sdk/no-client-key.env | collector/good.yaml           | P1-CLIENT-CERT-MISSING:fail PIT-CA-ONE-SIDE:fail PIT-CA-ONE-SIDE:fail
      sdk/grpc-schemeless-explicit.env | collector/rx-no-tls.yaml | RX-NO-TLS:fail
      """)
  void sdkWithReceiver_pair_producesExactlyTheseFindings(String sdk, String receiver, String findings) {
    assertThat(outcomes(auditFixtures(sdk.trim(), receiver.trim()))).isEqualTo(expected(findings));
  }
}
