package dev.spillway.server.audit;

import java.util.Locale;

/**
 * Tempo: its distributor's receivers (the collector's receivers, same keys: receivers TLS),
 * server-side encryption of the S3 backend in Tempo's real schema ({@code storage.trace.s3.sse},
 * tempodb/backend/s3/config.go, point 3), and the WAL directory, where Tempo keeps spans on local
 * disk before it uploads a block (point 2).
 */
final class TempoChecks {

  static final String REAL_KEYS =
      "storage.trace.s3.sse: {type: SSE-KMS, kms_key_id: <key ARN or alias>, kms_encryption_context: <JSON>}";

  private TempoChecks() {}

  static void check(AuditInput in, Findings out, Audit.Environment env) {
    OtlpConfigChecks.checkListeners(in, in.tree().at("distributor.receivers"), null, out);
    ConfigNode trace = in.tree().at("storage.trace");
    String backend = trace.get("backend").textOrEmpty().toLowerCase(Locale.ROOT);
    ConfigNode s3 = trace.get("s3");

    ConfigNode wal = trace.at("wal.path");
    if (!wal.textOrEmpty().isEmpty()) {
      OtlpConfigChecks.checkMount(in, wal, wal.text(), "Tempo WAL", env, out);
    }
    if (!backend.equals("s3") && !s3.isPresent()) {
      return;
    }
    if (s3.get("insecure").isTrue()) {
      out.add(Rule.P1_INSECURE, Severity.FAIL, in.name(), s3.get("insecure"),
          "storage.trace.s3.insecure: true uploads blocks to the object store over plain HTTP",
          "Set " + s3.get("insecure").path() + ": false (Tempo then uses https:// to " + s3.get("endpoint").textOrEmpty()
              + "); give the object store a TLS listener if it is MinIO or another self-hosted S3.");
    }
    ConfigNode sseKms = s3.get("sse_kms");
    if (sseKms.isPresent()) {
      out.fail(Rule.P3_TEMPO_SSE_KMS_BLOCK, in.name(), sseKms,
          "sse_kms (key_id, encryption) is not a Tempo setting: it does not turn on server-side encryption"
              + " (Tempo either refuses the unknown field or ignores it). Tempo's keys are " + REAL_KEYS);
    }
    ConfigNode sse = s3.get("sse");
    String type = sse.get("type").textOrEmpty();
    if (type.isEmpty()) {
      out.fail(Rule.P3_TEMPO_SSE, in.name(), sse.isPresent() ? sse : s3.isPresent() ? s3 : trace.get("backend"),
          "S3 backend without storage.trace.s3.sse.type: blocks are stored with whatever the bucket's"
              + " default is, and Tempo asks for no KMS key; set " + REAL_KEYS);
      return;
    }
    switch (type.toUpperCase(Locale.ROOT)) {
      case "SSE-KMS":
        if (sse.get("kms_key_id").textOrEmpty().isEmpty()) {
          out.warn(Rule.P3_TEMPO_SSE, in.name(), sse,
              "SSE-KMS without kms_key_id uses the AWS-managed aws/s3 key: no key policy of your own"
                  + " separates who may read traces");
        } else {
          out.add(Rule.P3_TEMPO_SSE, Severity.PASS, in.name(), sse.get("type"),
              "SSE-KMS with key " + sse.get("kms_key_id").text());
        }
        break;
      case "SSE-S3":
        out.warn(Rule.P3_TEMPO_SSE, in.name(), sse.get("type"),
            "SSE-S3 encrypts at rest with S3-held keys (the article's minimum); SSE-KMS adds a key policy"
                + " and an audit trail of every decrypt");
        break;
      case "SSE-C":
        out.add(Rule.P3_TEMPO_SSE, Severity.PASS, in.name(), sse.get("type"),
            "SSE-C: objects encrypted with a customer-provided key");
        break;
      default:
        out.fail(Rule.P3_TEMPO_SSE, in.name(), sse.get("type"),
            "sse.type " + type + " is not one of SSE-KMS, SSE-S3, SSE-C");
        break;
    }
  }
}
