package dev.spillway.server.audit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The article's first pitfall, "self-signed CA mounted in the app but not in the collector": when
 * an SDK environment file and a receiving config (collector or Spillway) are audited together,
 * their TLS material must match. When the certificate files named on both sides are readable from
 * here (relative paths resolve against the file that names them), the audit also verifies that
 * each side's CA really signs the other side's certificate, that the certificate has not expired
 * (a signature check alone passes an expired certificate) and that its key usage allows its role
 * (serverAuth for the receiver, clientAuth for the SDK, when the certificate restricts usage).
 *
 * <p>Pairs are formed by {@link Audit}: within one deployment folder or as {@code --pair} says. Only
 * the receiver protocol the SDK uses is compared: {@code OTEL_EXPORTER_OTLP_PROTOCOL} when set,
 * else inferred from the endpoint (port 4318 or a {@code /v1/} path: HTTP; port 4317: gRPC).
 */
final class PairingChecks {

  private PairingChecks() {}

  /** "http", "grpc" or "" (both) for the SDK's traces exporter. */
  static String protocolOf(EnvFile env) {
    SdkEnvChecks.EnvSetting protocol = SdkEnvChecks.traces(env, "PROTOCOL");
    if (protocol.isSet()) {
      return SdkEnvChecks.lower(protocol.value()).startsWith("http") ? "http" : "grpc";
    }
    SdkEnvChecks.EnvSetting endpoint = SdkEnvChecks.traces(env, "ENDPOINT");
    if (!endpoint.isSet()) {
      return "";
    }
    String ep = endpoint.value().toLowerCase(Locale.ROOT);
    int port = Endpoints.port(ep);
    if (port == 4318 || ep.contains("/v1/")) {
      return "http";
    }
    return port == 4317 ? "grpc" : "";
  }

  static void check(AuditInput sdk, AuditInput receiving, Findings out) {
    check(sdk, receiving, out, Clock.systemUTC());
  }

  static void check(AuditInput sdk, AuditInput receiving, Findings out, Clock clock) {
    EnvFile env = sdk.env();
    SdkEnvChecks.EnvSetting ca = SdkEnvChecks.traces(env, "CERTIFICATE");
    SdkEnvChecks.EnvSetting clientCert = SdkEnvChecks.traces(env, "CLIENT_CERTIFICATE");
    SdkEnvChecks.EnvSetting clientKey = SdkEnvChecks.traces(env, "CLIENT_KEY");
    boolean sdkClient = clientCert.isSet() && clientKey.isSet();
    String pair = " (" + sdk.name() + " with " + receiving.name() + ")";

    // Only the receiver protocol the SDK uses matters; when it cannot be told, both.
    String uses = protocolOf(env);
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
            out, pair, clock, "serverAuth");
      }
      if (sdkClient && !clientCa.isEmpty()) {
        ConfigNode at = tls.get("client_ca_file");
        compare(receiving, clientCa, at.path(), at.line(), sdk, clientCert.value(), clientCert.name(), out, pair,
            clock, "clientAuth");
      }
    }
  }

  /** Fails when both files are readable and the CA does not sign the certificate. */
  private static void compare(AuditInput caSide, String caPath, String caKey, int caLine,
      AuditInput certSide, String certPath, String certWhat, Findings out, String pair, Clock clock, String usage) {
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
      X509Certificate leaf = chain.get(0);
      if (leaf.getNotAfter().toInstant().isBefore(clock.instant())) {
        out.add(Rule.PIT_CA_ONE_SIDE, Severity.FAIL, caSide.name(), caKey, caLine,
            certWhat + " " + certPath + " expired on " + leaf.getNotAfter().toInstant() + pair
                + ": the handshake fails with certificate_expired, and an SDK without INSECURE=false may fall back to"
                + " plaintext");
      } else if (leaf.getNotBefore().toInstant().isAfter(clock.instant())) {
        out.add(Rule.PIT_CA_ONE_SIDE, Severity.FAIL, caSide.name(), caKey, caLine,
            certWhat + " " + certPath + " is not valid before " + leaf.getNotBefore().toInstant() + pair);
      }
      String wrongUsage = usageProblem(leaf, usage);
      if (wrongUsage != null) {
        out.add(Rule.PIT_CA_ONE_SIDE, Severity.FAIL, caSide.name(), caKey, caLine,
            certWhat + " " + certPath + " " + wrongUsage + pair + ": the peer refuses it (unsupported_certificate)");
      }
    } catch (Exception e) {
      out.add(Rule.PIT_CA_ONE_SIDE, Severity.WARN, caSide.name(), caKey, caLine,
          "cannot compare " + caPath + " with " + certPath + ": " + e.getMessage());
    }
  }

  /** Why the certificate may not act as {@code serverAuth}/{@code clientAuth}, or null when it may. */
  static String usageProblem(X509Certificate cert, String usage) throws CertificateParsingException {
    List<String> eku = cert.getExtendedKeyUsage();
    String oid = usage.equals("serverAuth") ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2";
    if (eku != null && !eku.contains(oid) && !eku.contains("2.5.29.37.0")) {
      return "has extended key usage " + eku + " without " + usage;
    }
    boolean[] ku = cert.getKeyUsage();
    if (ku != null && !ku[0] && !(ku.length > 2 && ku[2]) && !(ku.length > 4 && ku[4])) {
      return "has key usage without digitalSignature, keyEncipherment or keyAgreement";
    }
    return null;
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
