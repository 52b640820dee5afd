package dev.spillway.server.audit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;

/**
 * The article's first pitfall, "self-signed CA mounted in the app but not in the collector": when
 * an SDK environment file and a receiving config (collector or Spillway) are audited together,
 * their TLS material must match. When the certificate files named on both sides are readable from
 * here (relative paths resolve against the file that names them), the audit also verifies that
 * each side's CA really signs the other side's certificate.
 */
final class PairingChecks {

  private PairingChecks() {}

  static void check(AuditInput sdk, AuditInput receiving, Findings out) {
    EnvFile env = sdk.env();
    SdkEnvChecks.EnvSetting ca = SdkEnvChecks.traces(env, "CERTIFICATE");
    SdkEnvChecks.EnvSetting clientCert = SdkEnvChecks.traces(env, "CLIENT_CERTIFICATE");
    SdkEnvChecks.EnvSetting clientKey = SdkEnvChecks.traces(env, "CLIENT_KEY");
    boolean sdkClient = clientCert.isSet() && clientKey.isSet();
    String pair = " (" + sdk.name() + " with " + receiving.name() + ")";

    // Only the receiver protocol the SDK uses matters; with no OTEL_EXPORTER_OTLP_PROTOCOL, both.
    SdkEnvChecks.EnvSetting sdkProtocol = SdkEnvChecks.traces(env, "PROTOCOL");
    String uses = !sdkProtocol.isSet() ? "" : SdkEnvChecks.lower(sdkProtocol.value()).startsWith("http") ? "http" : "grpc";
    for (Map.Entry<String, ConfigNode> e : OtlpConfigChecks.otlpProtocols(receiving.tree()).entrySet()) {
      String protocol = e.getKey();
      if (!uses.isEmpty() && !protocol.endsWith("/" + uses)) {
        continue;
      }
      ConfigNode tls = e.getValue().get("tls");
      if (!tls.isMapping()) {
        if (ca.isSet()) {
          out.fail(Rule.PIT_CA_ONE_SIDE, receiving.name(), e.getValue(),
              "the SDK trusts CA " + ca.value() + " but receiver " + protocol + " has no tls block" + pair
                  + ": the handshake fails, and an SDK whose INSECURE is not explicitly false may continue in plaintext");
        }
        continue;
      }
      String clientCa = tls.get("client_ca_file").textOrEmpty();
      if (!ca.isSet()) {
        out.fail(Rule.PIT_CA_ONE_SIDE, receiving.name(), tls,
            "receiver " + protocol + " serves TLS but the SDK sets no OTEL_EXPORTER_OTLP_CERTIFICATE" + pair
                + ": unless the server certificate chains to a public CA the SDK cannot verify it");
      }
      if (!clientCa.isEmpty() && !sdkClient) {
        out.fail(Rule.PIT_CA_ONE_SIDE, receiving.name(), tls.get("client_ca_file"),
            "receiver " + protocol + " requires client certificates but the SDK sets no"
                + " OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE/CLIENT_KEY" + pair + ": every export is refused");
      }
      if (clientCa.isEmpty() && sdkClient) {
        out.fail(Rule.PIT_CA_ONE_SIDE, receiving.name(), tls,
            "the SDK presents a client certificate but receiver " + protocol + " has no client_ca_file" + pair
                + ": nobody checks it, so any client is accepted");
      }
      String serverCert = tls.get("cert_file").textOrEmpty();
      if (ca.isSet() && !serverCert.isEmpty()) {
        compare(sdk, ca.value(), ca.name(), ca.line(), receiving, serverCert, "receiver " + protocol + " cert_file",
            out, pair);
      }
      if (sdkClient && !clientCa.isEmpty()) {
        ConfigNode at = tls.get("client_ca_file");
        compare(receiving, clientCa, at.path(), at.line(), sdk, clientCert.value(), clientCert.name(), out, pair);
      }
    }
  }

  /** Fails when both files are readable and the CA does not sign the certificate. */
  private static void compare(AuditInput caSide, String caPath, String caKey, int caLine,
      AuditInput certSide, String certPath, String certWhat, Findings out, String pair) {
    Path caFile = resolve(caSide, caPath);
    Path certFile = resolve(certSide, certPath);
    if (!Files.isReadable(caFile) || !Files.isReadable(certFile)) {
      return; // the usual case on a CI machine: paths of the target host
    }
    try {
      List<X509Certificate> cas = PemCertificates.read(caFile);
      List<X509Certificate> chain = PemCertificates.read(certFile);
      if (!PemCertificates.signedBy(chain, cas)) {
        out.add(Rule.PIT_CA_ONE_SIDE, Severity.FAIL, caSide.name(), caKey, caLine,
            caPath + " does not sign " + certWhat + " " + certPath + pair
                + ": the handshake fails with bad_certificate/unknown_ca (the FAQ's \"spans never arrive\")");
      }
    } catch (Exception e) {
      out.add(Rule.PIT_CA_ONE_SIDE, Severity.WARN, caSide.name(), caKey, caLine,
          "cannot compare " + caPath + " with " + certPath + ": " + e.getMessage());
    }
  }

  private static Path resolve(AuditInput side, String file) {
    Path p = Paths.get(file);
    if (p.isAbsolute()) {
      return p;
    }
    Path dir = side.path().toAbsolutePath().getParent();
    return dir == null ? p : dir.resolve(p);
  }
}
