package dev.spillway.server.tls;

import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.SSLException;

/**
 * Says why a TLS handshake failed, in words an operator can act on, from the exception chain a
 * TLS stack throws (JSSE or netty-tcnative): an expired or not yet valid certificate, an unknown
 * CA, a name mismatch, or the peer refusing our certificate. Used where a failure would otherwise
 * read "UNAVAILABLE: io exception" or "SSLHandshakeException". Holds no payload.
 */
public final class TlsFailureReason {
  private TlsFailureReason() {}

  /** The reason, if {@code failure} or one of its causes is a TLS failure. */
  public static Optional<String> of(Throwable failure) {
    String firstTls = null;
    // Causes and suppressed exceptions, breadth first: netty-tcnative keeps the trust manager's
    // exception behind a "General OpenSslEngine problem".
    java.util.ArrayDeque<Throwable> todo = new java.util.ArrayDeque<>();
    java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    todo.add(failure);
    while (!todo.isEmpty() && seen.size() < 32) {
      Throwable t = todo.poll();
      if (!seen.add(t)) {
        continue;
      }
      if (t.getCause() != null) {
        todo.add(t.getCause());
      }
      todo.addAll(java.util.List.of(t.getSuppressed()));
      String m = t.getMessage() == null ? "" : t.getMessage();
      String lower = m.toLowerCase(Locale.ROOT);
      if (t instanceof CertificateExpiredException) {
        return Optional.of("TLS: the peer's certificate has expired (" + m + ")");
      }
      if (t instanceof CertificateNotYetValidException) {
        return Optional.of("TLS: the peer's certificate is not yet valid (" + m + ")");
      }
      if (t instanceof CertPathValidatorException v && v.getReason() == CertPathValidatorException.BasicReason.EXPIRED) {
        return Optional.of("TLS: a certificate in the peer's chain has expired");
      }
      if (t instanceof CertPathValidatorException v && v.getReason() == java.security.cert.PKIXReason.NO_TRUST_ANCHOR) {
        return Optional.of("TLS: unknown CA: the peer's certificate does not chain to the configured CA file");
      }
      if (t instanceof CertPathBuilderException || lower.contains("unable to find valid certification path")
          || lower.contains("does not chain with any of the trust anchors")
          || lower.contains("unable to get local issuer") || lower.contains("self-signed certificate in certificate chain")) {
        return Optional.of("TLS: unknown CA: the peer's certificate does not chain to the configured CA file");
      }
      if (lower.contains("no subject alternative") || lower.contains("no name matching")
          || lower.contains("hostname mismatch") || lower.contains("does not match")) {
        return Optional.of("TLS: name mismatch: " + truncate(m));
      }
      if (lower.contains("certificate_required") || lower.contains("bad_certificate") || lower.contains("unknown_ca")
          || lower.contains("certificate_unknown") || lower.contains("certificate required")
          || lower.contains("alert bad certificate") || lower.contains("alert unknown ca")) {
        return Optional.of("TLS: the peer refused our certificate (" + truncate(m) + ")");
      }
      if (lower.contains("certificate_expired") || lower.contains("certificate expired")) {
        return Optional.of("TLS: the peer says our certificate has expired (" + truncate(m) + ")");
      }
      if (firstTls == null && t instanceof SSLException && !m.isEmpty()) {
        firstTls = "TLS: " + truncate(m);
      }
    }
    return Optional.ofNullable(firstTls);
  }

  private static String truncate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }
}
