package dev.spillway.server.audit;

/**
 * Every check {@code spillway audit} knows. The id is stable: CI pipelines filter on it and
 * docs/AUDIT.md documents each one. A rule names a check, not an outcome: the same rule can
 * report {@link Severity#PASS} on one input and {@link Severity#FAIL} on another.
 */
enum Rule {
  P1_HTTP_ENDPOINT(
      "P1-HTTP-ENDPOINT",
      LeakagePoint.POINT_1,
      "OTLP endpoint is plaintext (http://, or unset so the SDK default http://localhost is used)",
      "Point the exporter at an https:// endpoint (OTEL_EXPORTER_OTLP_ENDPOINT=https://collector.internal:4318)."),
  P1_INSECURE(
      "P1-INSECURE",
      LeakagePoint.POINT_1,
      "TLS explicitly switched off (OTEL_EXPORTER_OTLP_INSECURE=true, tls.insecure: true, insecure_skip_verify)",
      "Set OTEL_EXPORTER_OTLP_INSECURE=false (or remove tls.insecure / insecure_skip_verify) and fix the certificate problem instead."),
  P1_INSECURE_IMPLICIT(
      "P1-INSECURE-IMPLICIT",
      LeakagePoint.POINT_1,
      "gRPC endpoint without a scheme and OTEL_EXPORTER_OTLP_INSECURE not explicitly false",
      "Write the scheme (https://host:4317) or set OTEL_EXPORTER_OTLP_INSECURE=false explicitly: for a scheme-less gRPC endpoint it is the only thing that decides TLS."),
  P1_CA_MISSING(
      "P1-CA-MISSING",
      LeakagePoint.POINT_1,
      "No CA configured to verify the collector's server certificate",
      "Set OTEL_EXPORTER_OTLP_CERTIFICATE (or tls.ca_file) to the CA bundle that signed the collector's certificate."),
  P1_CLIENT_CERT_MISSING(
      "P1-CLIENT-CERT-MISSING",
      LeakagePoint.POINT_1,
      "No client certificate and key, so the exporter cannot do mTLS",
      "Set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY (tls.cert_file / tls.key_file); the key as unencrypted PKCS#8."),
  RX_NO_TLS(
      "RX-NO-TLS",
      LeakagePoint.RECEIVERS,
      "Receiver protocol without a tls block accepts plaintext",
      "Add a tls block with cert_file, key_file and client_ca_file to every enabled protocol (grpc and http)."),
  RX_NO_CLIENT_CA(
      "RX-NO-CLIENT-CA",
      LeakagePoint.RECEIVERS,
      "Receiver has TLS but no client_ca_file: TLS, not mTLS",
      "Add tls.client_ca_file with the CA that signs the SDKs' client certificates, so a client without one is refused."),
  P2_SPILL_MOUNT(
      "P2-SPILL-MOUNT",
      LeakagePoint.POINT_2,
      "Spill, queue or WAL directory is not on an encrypted block device (dm-crypt/LUKS)",
      "Mount the directory on a dm-crypt/LUKS volume (/dev/mapper/...), or a provider-encrypted volume that you verify separately."),
  P2_PLAINTEXT_QUEUE(
      "P2-PLAINTEXT-QUEUE",
      LeakagePoint.POINT_2,
      "Collector persistent sending_queue (file_storage) writes spans to disk in plaintext",
      "Drop sending_queue.storage and export to Spillway, which seals spilled spans; or keep file_storage only on a dm-crypt volume."),
  P2_MEMORY_LIMITER(
      "P2-MEMORY-LIMITER",
      LeakagePoint.POINT_2,
      "Pipeline has no memory_limiter ahead of batch",
      "Put memory_limiter first in every pipeline's processors, before batch, so pressure sheds load instead of growing queues."),
  P3_BACKEND_PLAINTEXT(
      "P3-BACKEND-PLAINTEXT",
      LeakagePoint.POINT_3,
      "Spans written to Elasticsearch/OpenSearch over http:// or to Kafka without TLS",
      "Use https:// URLs (and tls.ca_file) for Elasticsearch/OpenSearch, and a tls block on Kafka exporters and receivers."),
  P3_TEMPO_SSE(
      "P3-TEMPO-SSE",
      LeakagePoint.POINT_3,
      "Tempo S3 backend without server-side encryption (storage.trace.s3.sse.type)",
      "Set storage.trace.s3.sse: {type: SSE-KMS, kms_key_id: <key ARN>, kms_encryption_context: ...} (at least type: SSE-S3)."),
  P3_TEMPO_SSE_KMS_BLOCK(
      "P3-TEMPO-SSE-KMS-BLOCK",
      LeakagePoint.POINT_3,
      "The article's sse_kms: {key_id, encryption: true} block is not a Tempo setting and encrypts nothing",
      "Replace it with Tempo's real keys: storage.trace.s3.sse: {type: SSE-KMS, kms_key_id: <key ARN>, kms_encryption_context: <JSON>}."),
  P3_IAM_WRITER_DECRYPT(
      "P3-IAM-WRITER-DECRYPT",
      LeakagePoint.POINT_3,
      "Writer policy allows kms:Decrypt (directly or through a wildcard such as kms:*)",
      "Allow the writer only kms:GenerateDataKey (and kms:GenerateDataKeyWithoutPlaintext) or kms:GetPublicKey, and add an explicit Deny on kms:Decrypt."),
  P3_IAM_WRITER_GENERATE(
      "P3-IAM-WRITER-GENERATE",
      LeakagePoint.POINT_3,
      "Writer policy lacks kms:GenerateDataKey (GenerateDataKeyWithoutPlaintext alone returns no key to encrypt with)",
      "Allow kms:GenerateDataKey (the article also asks for kms:GenerateDataKeyWithoutPlaintext), or kms:GetPublicKey for an RSA writer."),
  P3_IAM_ROLE(
      "P3-IAM-ROLE",
      LeakagePoint.POINT_3,
      "Whose policy is this? The audit judges writer and reader rules only for roles the user names",
      "Name the roles: --writer-role ARN|POLICY-FILE for Spillway's ingest role, --reader-role ARN|POLICY-FILE for drains and Tempo."),
  P3_IAM_READER_DECRYPT(
      "P3-IAM-READER-DECRYPT",
      LeakagePoint.POINT_3,
      "Reader (Tempo, a drain) is not allowed kms:Decrypt: it cannot read what was written",
      "Allow the reader kms:Decrypt on the key (Tempo with SSE-KMS also needs kms:GenerateDataKey for its own uploads)."),
  P3_IAM_WRITER_DENY(
      "P3-IAM-WRITER-DENY",
      LeakagePoint.POINT_3,
      "Writer policy does not explicitly deny kms:Decrypt",
      "Add a statement {Effect: Deny, Action: kms:Decrypt, Resource: *} so no other policy can grant the writer read access."),
  PIT_CA_ONE_SIDE(
      "PIT-CA-ONE-SIDE",
      LeakagePoint.PITFALL,
      "TLS material configured on one side only (SDK vs receiver), or the two sides use different CAs",
      "Configure both sides together: SDK CERTIFICATE = CA of the receiver's cert_file; receiver client_ca_file = CA of the SDK's CLIENT_CERTIFICATE; rotate both at once."),
  PROBE_MTLS(
      "PROBE-MTLS",
      LeakagePoint.RECEIVERS,
      "Live endpoint: is a client without a certificate refused?",
      "Configure the receiver with tls.client_ca_file (client certificates required); a client without one must get alert 116 certificate_required (or 42)."),
  PROBE_PLAINTEXT(
      "PROBE-PLAINTEXT",
      LeakagePoint.RECEIVERS,
      "Live endpoint answers plaintext (no TLS at all)",
      "Enable TLS on the listener; a plaintext HTTP request to an OTLP port must get no HTTP answer."),
  PROBE_TLS_VERSION(
      "PROBE-TLS-VERSION",
      LeakagePoint.RECEIVERS,
      "Live endpoint: negotiated TLS version",
      "Offer TLS 1.3 (and at least TLS 1.2); disable older versions."),
  PROBE_CERT_EXPIRY(
      "PROBE-CERT-EXPIRY",
      LeakagePoint.RECEIVERS,
      "Live endpoint: server certificate expiry (expired certificates are the classic trigger of plaintext fallback)",
      "Renew the server certificate before it expires (warned under 30 days) and automate rotation.");

  private final String id;
  private final LeakagePoint point;
  private final String title;
  private final String fix;

  Rule(String id, LeakagePoint point, String title, String fix) {
    this.id = id;
    this.point = point;
    this.title = title;
    this.fix = fix;
  }

  String id() {
    return id;
  }

  LeakagePoint point() {
    return point;
  }

  String title() {
    return title;
  }

  String fix() {
    return fix;
  }

  static Rule byId(String id) {
    for (Rule r : values()) {
      if (r.id.equalsIgnoreCase(id)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown rule id: " + id);
  }
}
