package dev.spillway.server.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509TrustManager;
import javax.security.auth.x500.X500Principal;

/**
 * Verifies client chains with a delegate, then, when names are configured, requires the leaf to
 * carry one of them as a DNS/URI subject alternative name or as its subject CN. A mismatch fails
 * the handshake, so an unwanted client never reaches the HTTP or gRPC layer.
 *
 * <p>A refusal is logged with its reason (unknown CA, expired, name not allowed; at most once per
 * {@value #LOG_INTERVAL_MILLIS} ms per reason, so a flood of bad clients cannot flood the log),
 * and carries the OpenSSL verify code that makes BoringSSL send the alert a TLS library normally
 * sends: 48 unknown_ca, 45 certificate_expired, 42 bad_certificate. Without the code netty-tcnative
 * reports an unspecified error and the client gets 80 internal_error, which says nothing.
 */
final class ClientNameCheck extends ClientTrustManager {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClientNameCheck.class);
  static final long LOG_INTERVAL_MILLIS = 10_000;

  private final X509TrustManager delegate;
  private final Set<String> allowed;
  private final String listener;
  /** Last log time per reason: a flood of refusals logs once per interval. */
  private final java.util.concurrent.ConcurrentHashMap<String, Long> lastLogged = new java.util.concurrent.ConcurrentHashMap<>();

  ClientNameCheck(X509TrustManager delegate, List<String> allowed) {
    this(delegate, allowed, "tls");
  }

  /** @param listener the configuration path of the listener, for log lines */
  ClientNameCheck(X509TrustManager delegate, List<String> allowed, String listener) {
    super(delegate);
    this.delegate = delegate;
    this.allowed = Set.copyOf(allowed);
    this.listener = listener;
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    try {
      delegate.checkClientTrusted(chain, authType);
      checkNames(chain);
    } catch (CertificateException e) {
      throw refused(chain, e);
    }
  }

  /** Logs the refusal (rate-limited) and returns it with the verify code for the right alert. */
  private CertificateException refused(X509Certificate[] chain, CertificateException e) {
    String reason;
    int code;
    String why = TlsFailureReason.of(e).orElse("");
    if (e instanceof NameNotAllowed) {
      reason = "its name is not in allowed_client_names";
      code = io.netty.internal.tcnative.CertificateVerifier.X509_V_ERR_CERT_REJECTED;
    } else if (why.contains("unknown CA")) {
      reason = "unknown CA (it does not chain to client_ca_file)";
      code = io.netty.internal.tcnative.CertificateVerifier.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
    } else if (why.contains("expired")) {
      reason = "expired";
      code = io.netty.internal.tcnative.CertificateVerifier.X509_V_ERR_CERT_HAS_EXPIRED;
    } else if (why.contains("not yet valid")) {
      reason = "not yet valid";
      code = io.netty.internal.tcnative.CertificateVerifier.X509_V_ERR_CERT_NOT_YET_VALID;
    } else {
      reason = why.isEmpty() ? String.valueOf(e.getMessage()) : why;
      code = io.netty.internal.tcnative.CertificateVerifier.X509_V_ERR_CERT_UNTRUSTED;
    }
    long now = System.currentTimeMillis();
    Long last = lastLogged.get(reason);
    if (last == null || now - last >= LOG_INTERVAL_MILLIS) {
      lastLogged.put(reason, now);
      String subject = chain == null || chain.length == 0 ? "none" : chain[0].getSubjectX500Principal().getName();
      String issuer = chain == null || chain.length == 0 ? "none" : chain[0].getIssuerX500Principal().getName();
      LOG.warn("{}: refused a client certificate: {} (subject {}, issuer {})", listener, reason, subject, issuer);
    }
    try {
      io.netty.handler.ssl.OpenSslCertificateException mapped =
          new io.netty.handler.ssl.OpenSslCertificateException("client certificate refused: " + reason, code);
      mapped.initCause(e);
      return mapped;
    } catch (IllegalArgumentException | LinkageError noNativeCodes) {
      return e; // not on netty-tcnative: the JDK's own alert applies
    }
  }

  /** The leaf's names are not among allowed_client_names. */
  private static final class NameNotAllowed extends CertificateException {
    private static final long serialVersionUID = 1L;

    NameNotAllowed(String message) {
      super(message);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    checkClientTrusted(chain, authType);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkClientTrusted(chain, authType);
  }


  private void checkNames(X509Certificate[] chain) throws CertificateException {
    if (allowed.isEmpty()) {
      return;
    }
    X509Certificate leaf = chain[0];
    try {
      Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          int type = (Integer) san.get(0);
          if ((type == 2 || type == 6) && allowed.contains(String.valueOf(san.get(1)))) {
            return;
          }
        }
      }
    } catch (CertificateParsingException e) {
      throw new CertificateException("client certificate SANs do not parse", e);
    }
    String cn = commonName(leaf.getSubjectX500Principal());
    if (cn != null && allowed.contains(cn)) {
      return;
    }
    throw new NameNotAllowed("client certificate name is not in allowed_client_names");
  }

  private static String commonName(X500Principal p) {
    try {
      javax.naming.ldap.LdapName name = new javax.naming.ldap.LdapName(p.getName(X500Principal.RFC2253));
      for (javax.naming.ldap.Rdn rdn : name.getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return String.valueOf(rdn.getValue());
        }
      }
    } catch (javax.naming.InvalidNameException e) {
      return null;
    }
    return null;
  }
}
