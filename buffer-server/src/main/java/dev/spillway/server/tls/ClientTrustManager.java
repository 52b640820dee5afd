package dev.spillway.server.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A trust manager for a listener's client certificates only: it verifies clients (the subclass
 * decides how) and refuses to be used for servers. The accepted issuers are the delegate's, so
 * the CA names the server advertises stay those of the configured client CA file.
 */
abstract class ClientTrustManager extends X509ExtendedTrustManager {
  private final X509TrustManager issuers;

  /** @param issuers the trust manager whose accepted issuers are advertised to clients */
  ClientTrustManager(X509TrustManager issuers) {
    this.issuers = issuers;
  }

  @Override
  public final void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("a server-side trust manager does not verify servers");
  }

  @Override
  public final void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  @Override
  public final void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  @Override
  public final X509Certificate[] getAcceptedIssuers() {
    return issuers.getAcceptedIssuers();
  }
}
