package dev.spillway.server.tls;

import java.net.Socket;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.DSAPublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses client certificate chains that verify but are weak: a certificate the client sent
 * (leaf or intermediate; not a self-signed root, which only the configured CA file can make
 * trusted) signed with SHA-1, MD5 or MD2, or carrying an RSA or DSA key under {@value
 * #MIN_RSA_BITS} bits or an EC key under {@value #MIN_EC_BITS} bits. The JDK's own checks let
 * all of these through for a private CA ({@code jdk.certpath.disabledAlgorithms} stops SHA-1
 * only under public roots, RSA only under 1024 bits). Always on; there is no setting to weaken it.
 *
 * <p>Wraps the trust manager that verifies the chain (verification first, so an untrusted chain
 * still fails as untrusted). A refusal fails the handshake with {@link WeakCertificateException}
 * (counted as {@code reason="weak_client_certificate"}) and logs a line naming the listener, the
 * certificate's subject and the reason, at most one line per {@value #LOG_INTERVAL_SECONDS} s
 * (with the number suppressed), since the peer controls how often this happens. Thread-safe.
 */
final class WeakCertificateRefusal extends ClientTrustManager {
  static final int MIN_RSA_BITS = 2048;
  static final int MIN_EC_BITS = 224;
  static final long LOG_INTERVAL_SECONDS = 10;
  private static final Logger LOG = LoggerFactory.getLogger(WeakCertificateRefusal.class);
  /** Signature algorithm OIDs whose hash is broken for signatures. */
  private static final Map<String, String> WEAK_SIGNATURES = Map.of(
      "1.2.840.113549.1.1.5", "SHA-1 (sha1WithRSAEncryption)",
      "1.3.14.3.2.29", "SHA-1 (sha1WithRSASignature)",
      "1.2.840.10045.4.1", "SHA-1 (ecdsa-with-SHA1)",
      "1.2.840.10040.4.3", "SHA-1 (dsa-with-sha1)",
      "1.2.840.113549.1.1.4", "MD5 (md5WithRSAEncryption)",
      "1.2.840.113549.1.1.2", "MD2 (md2WithRSAEncryption)");

  private final X509ExtendedTrustManager delegate;
  private final String listener;
  private final AtomicLong nextLogNanos = new AtomicLong(Long.MIN_VALUE);
  private final AtomicLong suppressed = new AtomicLong();

  /**
   * @param delegate verifies the chain first
   * @param listener the configuration path of the listener, for the log line
   */
  WeakCertificateRefusal(X509ExtendedTrustManager delegate, String listener) {
    super(delegate);
    this.delegate = delegate;
    this.listener = listener;
  }

  /** Why this chain is weak, or null if it is not. */
  static String weakness(X509Certificate[] chain) {
    for (X509Certificate c : chain) {
      boolean selfSigned = c.getSubjectX500Principal().equals(c.getIssuerX500Principal());
      if (!selfSigned) {
        String weak = WEAK_SIGNATURES.get(c.getSigAlgOID());
        if (weak != null) {
          return "signed with " + weak;
        }
      }
      String key = keyWeakness(c.getPublicKey());
      if (key != null && !selfSigned) {
        return key;
      }
    }
    return null;
  }

  private static String keyWeakness(PublicKey k) {
    if (k instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() < MIN_RSA_BITS) {
      return "an RSA key of " + rsa.getModulus().bitLength() + " bits (at least " + MIN_RSA_BITS + " required)";
    }
    if (k instanceof DSAPublicKey dsa && dsa.getParams() != null && dsa.getParams().getP().bitLength() < MIN_RSA_BITS) {
      return "a DSA key of " + dsa.getParams().getP().bitLength() + " bits (at least " + MIN_RSA_BITS + " required)";
    }
    if (k instanceof ECPublicKey ec && ec.getParams().getCurve().getField().getFieldSize() < MIN_EC_BITS) {
      return "an EC key of " + ec.getParams().getCurve().getField().getFieldSize() + " bits (at least " + MIN_EC_BITS + " required)";
    }
    return null;
  }

  private void check(X509Certificate[] chain) throws CertificateException {
    String why = weakness(chain);
    if (why == null) {
      return;
    }
    long now = System.nanoTime();
    long next = nextLogNanos.get();
    if ((next == Long.MIN_VALUE || now - next >= 0)
        && nextLogNanos.compareAndSet(next, now + LOG_INTERVAL_SECONDS * 1_000_000_000L)) {
      long skipped = suppressed.getAndSet(0);
      LOG.warn("{}: refused a client certificate (subject {}): {}{}", listener,
          chain[0].getSubjectX500Principal().getName(), why,
          skipped > 0 ? " (" + skipped + " more weak certificates refused since the last line)" : "");
    } else {
      suppressed.incrementAndGet();
    }
    throw new WeakCertificateException("client certificate " + why);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    delegate.checkClientTrusted(chain, authType);
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    delegate.checkClientTrusted(chain, authType, socket);
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    delegate.checkClientTrusted(chain, authType, engine);
    check(chain);
  }

}
