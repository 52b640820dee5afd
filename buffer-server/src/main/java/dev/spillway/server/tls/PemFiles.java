package dev.spillway.server.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * Reads PEM certificates and keys. Error messages name the file, never its contents: a key that
 * does not parse is reported as "not a private key", not echoed.
 */
public final class PemFiles {
  private PemFiles() {}

  public static List<X509Certificate> certificates(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      Collection<? extends Certificate> certs =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate c : certs) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        throw new IOException(file + " holds no PEM certificate");
      }
      return out;
    } catch (CertificateException e) {
      throw new IOException(file + " is not a PEM certificate file", e);
    }
  }

  /** An unencrypted private key: PKCS#8 ({@code BEGIN PRIVATE KEY}) or PKCS#1/SEC1. */
  public static PrivateKey privateKey(Path file) throws IOException {
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser p = new PEMParser(r)) {
      Object o = p.readObject();
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      if (o instanceof PrivateKeyInfo info) {
        return conv.getPrivateKey(info);
      }
      if (o instanceof PEMKeyPair pair) {
        return conv.getKeyPair(pair).getPrivate();
      }
      throw new IOException(file + " is not an unencrypted PEM private key");
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().startsWith(file.toString())) {
        throw e;
      }
      throw new IOException(file + " is not an unencrypted PEM private key");
    }
  }

  /** A trust manager that accepts exactly the CAs in {@code caFile}. */
  public static X509TrustManager trustManager(Path caFile) throws IOException {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      int i = 0;
      for (X509Certificate c : certificates(caFile)) {
        ks.setCertificateEntry("ca-" + i++, c);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509TrustManager x) {
          return x;
        }
      }
      throw new IOException("no X509 trust manager available");
    } catch (GeneralSecurityException e) {
      throw new IOException(caFile + ": cannot build a trust store", e);
    }
  }

  /** A key manager presenting {@code certFile} with {@code keyFile}. */
  public static KeyManagerFactory keyManagerFactory(Path certFile, Path keyFile) throws IOException {
    try {
      List<X509Certificate> chain = certificates(certFile);
      PrivateKey key = privateKey(keyFile);
      KeyStore ks = KeyStore.getInstance("PKCS12");
      char[] pw = new char[0];
      ks.load(null, null);
      ks.setKeyEntry("key", key, pw, chain.toArray(new X509Certificate[0]));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pw);
      return kmf;
    } catch (GeneralSecurityException e) {
      throw new IOException(certFile + " / " + keyFile + ": the certificate and key do not load together", e);
    }
  }
}
