package dev.spillway.server.tls;

import java.security.cert.CertificateException;

/** A client certificate chain that verifies but is too weak to trust; the message says why. */
public final class WeakCertificateException extends CertificateException {
  private static final long serialVersionUID = 1L;

  WeakCertificateException(String reason) {
    super(reason);
  }
}
