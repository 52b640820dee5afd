package dev.spillway.server.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import javax.security.auth.x500.X500Principal;

/**
 * Verifies client chains with a delegate, then, when names are configured, requires the leaf to
 * carry one of them as a DNS/URI subject alternative name or as its subject CN. A mismatch fails
 * the handshake, so an unwanted client never reaches the HTTP or gRPC layer.
 */
final class ClientNameCheck extends X509ExtendedTrustManager {
  private final X509TrustManager delegate;
  private final Set<String> allowed;

  ClientNameCheck(X509TrustManager delegate, List<String> allowed) {
    this.delegate = delegate;
    this.allowed = Set.copyOf(allowed);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    delegate.checkClientTrusted(chain, authType);
    checkNames(chain);
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

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("a server-side trust manager does not verify servers");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return delegate.getAcceptedIssuers();
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
    throw new CertificateException("client certificate name is not in allowed_client_names");
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
