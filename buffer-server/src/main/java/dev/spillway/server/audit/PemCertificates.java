package dev.spillway.server.audit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/** Reads PEM certificate files and answers "does this CA bundle sign this certificate". */
final class PemCertificates {

  private static final int MAX_CHAIN = 6;

  private PemCertificates() {}

  /** All certificates in a PEM (or DER) file, in file order. */
  static List<X509Certificate> read(Path file) throws IOException, GeneralSecurityException {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    List<X509Certificate> out = new ArrayList<>();
    try (InputStream in = Files.newInputStream(file)) {
      for (Certificate c : cf.generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
    }
    return out;
  }

  /**
   * True when the first certificate of {@code chain} leads, through the others, to a certificate
   * signed by one of {@code cas} (or to one of them itself).
   */
  static boolean signedBy(List<X509Certificate> chain, List<X509Certificate> cas) {
    if (chain.isEmpty()) {
      return false;
    }
    X509Certificate current = chain.get(0);
    for (int step = 0; step < MAX_CHAIN; step++) {
      for (X509Certificate ca : cas) {
        if (ca.equals(current) || issues(ca, current)) {
          return true;
        }
      }
      X509Certificate next = null;
      for (X509Certificate c : chain) {
        if (!c.equals(current) && issues(c, current)) {
          next = c;
          break;
        }
      }
      if (next == null) {
        return false;
      }
      current = next;
    }
    return false;
  }

  private static boolean issues(X509Certificate issuer, X509Certificate subject) {
    if (!issuer.getSubjectX500Principal().equals(subject.getIssuerX500Principal())) {
      return false;
    }
    try {
      subject.verify(issuer.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
