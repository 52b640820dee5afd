package dev.spillway.server.telemetry;

import dev.spillway.server.tls.PemFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The TLS client side of a telemetry push, built from PEM files before anything connects: the CA
 * (or the JVM's trust store) and, for mTLS, a client certificate with its key. Fails closed with
 * the file and the reason: a file that does not parse, a key that is not the certificate's.
 */
record ClientTls(SSLContext context, X509TrustManager trustManager) {

  static ClientTls load(String what, Optional<Path> caFile, Optional<Path> certFile, Optional<Path> keyFile)
      throws IOException {
    X509TrustManager trust = caFile.isPresent() ? PemFiles.trustManager(caFile.get()) : defaultTrust();
    KeyManager[] keys = null;
    if (certFile.isPresent() && keyFile.isPresent()) {
      checkPair(what, certFile.get(), keyFile.get());
      keys = PemFiles.keyManagerFactory(certFile.get(), keyFile.get()).getKeyManagers();
    }
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(keys, new TrustManager[] {trust}, null);
      return new ClientTls(ctx, trust);
    } catch (GeneralSecurityException e) {
      throw new IOException(what + ": cannot set up TLS: " + e.getMessage(), e);
    }
  }

  /** A certificate with someone else's key would only fail at the first handshake: refuse at start. */
  private static void checkPair(String what, Path certFile, Path keyFile) throws IOException {
    List<X509Certificate> chain = PemFiles.certificates(certFile);
    if (chain.isEmpty()) {
      throw new IOException(what + ": " + certFile + " holds no certificate");
    }
    PrivateKey key = PemFiles.privateKey(keyFile);
    X509Certificate leaf = chain.get(0);
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC", "ECDSA" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> null;
    };
    if (algorithm == null) {
      return; // an unusual key type: the handshake will judge
    }
    try {
      byte[] probe = "spillway telemetry key check".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] sig = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(leaf.getPublicKey());
      verifier.update(probe);
      if (!verifier.verify(sig)) {
        throw new IOException(what + ": " + keyFile + " is not the private key of " + certFile);
      }
    } catch (GeneralSecurityException e) {
      throw new IOException(what + ": " + keyFile + " is not the private key of " + certFile
          + " (" + e.getMessage() + ")");
    }
  }

  private static X509TrustManager defaultTrust() throws IOException {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init((java.security.KeyStore) null);
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509TrustManager x) {
          return x;
        }
      }
      throw new IOException("the JVM has no X509 trust manager");
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot load the JVM's trust store: " + e.getMessage(), e);
    }
  }
}
