package dev.spillway.server.audit;

import java.util.List;
import java.util.Locale;

/**
 * Leakage point 1 in an SDK environment file, for the traces signal (the one Spillway buffers):
 * each {@code OTEL_EXPORTER_OTLP_TRACES_*} variable overrides its generic
 * {@code OTEL_EXPORTER_OTLP_*} twin, as the SDK specification says.
 */
final class SdkEnvChecks {

  static final String PREFIX = "OTEL_EXPORTER_OTLP_";
  private static final List<String> SIGNALS = List.of("", "TRACES_", "METRICS_", "LOGS_");

  private SdkEnvChecks() {}

  /** The effective traces setting: the TRACES_ variable when set, else the generic one. */
  static EnvSetting traces(EnvFile env, String suffix) {
    EnvFile.Entry specific = env.get(PREFIX + "TRACES_" + suffix);
    if (specific != null) {
      return new EnvSetting(PREFIX + "TRACES_" + suffix, specific.value(), specific.line());
    }
    EnvFile.Entry generic = env.get(PREFIX + suffix);
    if (generic != null) {
      return new EnvSetting(PREFIX + suffix, generic.value(), generic.line());
    }
    return new EnvSetting(PREFIX + suffix, null, 0);
  }

  /** A variable's name, value (null when unset) and line. */
  record EnvSetting(String name, String value, int line) {
    boolean isSet() {
      return value != null;
    }
  }

  /**
   * One root cause, one finding: an exporter that does no TLS at all (http://, INSECURE=true) gets
   * that finding only, not the CA and client-certificate findings meant for a TLS connection; a
   * public endpoint (a SaaS with a public CA and an API key) gets no CA or mTLS findings. An
   * environment without any OTEL_EXPORTER_OTLP_* variable configures no exporter and is not judged.
   * Findings about a variable that is not set point at the line of the endpoint they concern.
   */
  static void check(AuditInput in, Findings out) {
    EnvFile env = in.env();
    String file = in.name();
    if (!env.configuresOtlpExporter()) {
      return;
    }
    EnvSetting endpoint = traces(env, "ENDPOINT");
    boolean tracesPlaintext = false;

    // Every endpoint variable that is set: http:// is plaintext whatever else is set.
    for (String signal : SIGNALS) {
      EnvFile.Entry e = env.get(PREFIX + signal + "ENDPOINT");
      if (e != null && Endpoints.isHttpUrl(e.value())) {
        Endpoints.Reach reach = Endpoints.connection(e.value());
        out.add(new Finding(Rule.P1_HTTP_ENDPOINT, reach.loopback() ? Severity.WARN : Severity.FAIL, file,
            PREFIX + signal + "ENDPOINT", e.line(),
            "endpoint " + e.value() + " is plaintext HTTP: spans and their attributes cross the network unencrypted ("
                + reach.why() + ")",
            "Set " + PREFIX + signal + "ENDPOINT to https://" + hostPort(e.value()) + " and "
                + PREFIX + "CERTIFICATE to the collector's CA."));
        tracesPlaintext |= (PREFIX + signal + "ENDPOINT").equals(endpoint.name());
      }
    }
    if (!endpoint.isSet()) {
      out.add(new Finding(Rule.P1_HTTP_ENDPOINT, Severity.WARN, file, endpoint.name(), 0,
          "no traces endpoint set: the SDK falls back to its default http://localhost:4317 (gRPC) or"
              + " http://localhost:4318 (HTTP), which is plaintext (loopback only)",
          "Set OTEL_EXPORTER_OTLP_ENDPOINT=https://<collector>:4318 explicitly."));
      tracesPlaintext = true;
    }

    // INSECURE=true: governs only gRPC endpoints without a scheme; with https:// it is ignored today.
    for (String signal : SIGNALS) {
      EnvFile.Entry e = env.get(PREFIX + signal + "INSECURE");
      if (e == null || !lower(e.value()).equals("true")) {
        continue;
      }
      String specific = signal.isEmpty() ? null : valueOf(env, PREFIX + signal + "ENDPOINT");
      String ep = specific != null ? specific : valueOf(env, PREFIX + "ENDPOINT");
      if (ep != null && lower(ep).startsWith("https://")) {
        out.add(Rule.P1_INSECURE, Severity.WARN, file, PREFIX + signal + "INSECURE", e.line(),
            "INSECURE=true is ignored while the endpoint says https://, but it turns TLS off the day"
                + " someone writes the endpoint without a scheme");
      } else if (ep == null || !Endpoints.isHttpUrl(ep)) {
        out.add(Rule.P1_INSECURE, Severity.FAIL, file, PREFIX + signal + "INSECURE", e.line(),
            "INSECURE=true switches TLS off for a gRPC endpoint without a scheme: the exporter sends plaintext");
        tracesPlaintext |= signal.isEmpty() || signal.equals("TRACES_");
      }
    }
    if (tracesPlaintext) {
      return;
    }

    // Advice: scheme-less gRPC endpoint and INSECURE not explicitly false.
    EnvSetting protocol = traces(env, "PROTOCOL");
    boolean grpc = !protocol.isSet() || lower(protocol.value()).equals("grpc");
    if (!endpoint.value().contains("://") && grpc) {
      EnvSetting insecure = traces(env, "INSECURE");
      // An explicit true is already P1-INSECURE; the advice is for unset (or unparseable) values.
      if (!insecure.isSet() || !List.of("true", "false").contains(lower(insecure.value()))) {
        out.add(Rule.P1_INSECURE_IMPLICIT, Severity.WARN, file, endpoint.name(), endpoint.line(),
            "endpoint " + endpoint.value() + " has no scheme and the protocol is "
                + (protocol.isSet() ? "grpc" : "unset (grpc in the Java SDK)")
                + "; OTEL_EXPORTER_OTLP_INSECURE is not explicitly false, so TLS depends on a default");
      }
    }
    if (Endpoints.isPublic(endpoint.value())) {
      return; // a public CA is in the system store; SaaS ingest authenticates with an API key header
    }

    EnvSetting ca = traces(env, "CERTIFICATE");
    if (!ca.isSet()) {
      out.add(Rule.P1_CA_MISSING, Severity.WARN, file, ca.name(), endpoint.line(),
          "no CA set for " + endpoint.value() + ": the SDK trusts only the system store, which will not contain a"
              + " private CA; the handshake then fails and some SDKs fall back to plaintext");
    }
    EnvSetting cert = traces(env, "CLIENT_CERTIFICATE");
    EnvSetting key = traces(env, "CLIENT_KEY");
    if (!cert.isSet() || !key.isSet()) {
      String missing = !cert.isSet() && !key.isSet() ? cert.name() + " and " + key.name()
          : !cert.isSet() ? cert.name() : key.name();
      out.add(Rule.P1_CLIENT_CERT_MISSING, Severity.FAIL, file, !cert.isSet() ? cert.name() : key.name(),
          endpoint.line(), missing + " not set: without a client certificate and key the exporter cannot do mTLS");
    }
  }

  private static String hostPort(String url) {
    String s = url.trim();
    int scheme = s.indexOf("://");
    return scheme >= 0 ? s.substring(scheme + 3) : s;
  }

  private static String valueOf(EnvFile env, String name) {
    EnvFile.Entry e = env.get(name);
    return e == null ? null : e.value();
  }

  static String lower(String s) {
    return s.trim().toLowerCase(Locale.ROOT);
  }
}
