package dev.spillway.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Runs ops/pki/dev-ca.sh into a directory and turns its PEM files into JSSE contexts. */
final class DevPki {

  static final Path SCRIPT = Paths.get("..", "ops", "pki", "dev-ca.sh").toAbsolutePath().normalize();

  final Path dir;

  private DevPki(Path dir) {
    this.dir = dir;
  }

  /** Creates a CA, server and client certificates valid {@code days} days in {@code dir}. */
  static DevPki create(Path dir, int days) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("bash", SCRIPT.toString(), dir.toString(), Integer.toString(days))
        .redirectErrorStream(true)
        .start();
    byte[] output = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("dev-ca.sh finished").isTrue();
    assertThat(p.exitValue()).as(new String(output, StandardCharsets.UTF_8)).isZero();
    return new DevPki(dir);
  }

  Path file(String name) {
    return dir.resolve(name);
  }

  /** A server context with server.crt/server.key, trusting ca.crt for client certificates. */
  SSLContext serverContext() throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("server", privateKey(file("server.key")), new char[0],
        new Certificate[] {certificate(file("server.crt")), certificate(file("ca.crt"))});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    ts.setCertificateEntry("ca", certificate(file("ca.crt")));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ts);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  static Certificate certificate(Path pem) throws IOException, GeneralSecurityException {
    return CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(Files.readAllBytes(pem)));
  }

  static PrivateKey privateKey(Path pkcs8Pem) throws IOException, GeneralSecurityException {
    String pem = Files.readString(pkcs8Pem, StandardCharsets.US_ASCII);
    assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----");
    String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
  }
}
