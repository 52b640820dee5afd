package dev.spillway.kafka.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away certificate authority for test brokers and clients: every key pair is EC P-256,
 * every leaf has the SAN {@code 127.0.0.1}/{@code localhost}, and each store is a PKCS12 file
 * protected by {@link #PASSWORD} (Kafka's Java client cannot read an unencrypted PEM key file).
 */
public final class KafkaPki {
  /** The password of every store this class writes: test material only. */
  public static final String PASSWORD = "spillway-test";

  private final Path dir;
  private final KeyPair caKeys;
  private final X509Certificate caCert;

  private KafkaPki(Path dir, KeyPair caKeys, X509Certificate caCert) {
    this.dir = dir;
    this.caKeys = caKeys;
    this.caCert = caCert;
  }

  /** A new authority named {@code name}; its trust store is {@code DIR/NAME-trust.p12}. */
  public static KafkaPki create(Path dir, String name) throws IOException {
    try {
      Files.createDirectories(dir);
      KeyPair keys = keyPair();
      X509Certificate cert = sign(new X500Name("CN=" + name), keys, new X500Name("CN=" + name), keys, true);
      KafkaPki pki = new KafkaPki(dir, keys, cert);
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("ca", cert);
      pki.store(trust, name + "-trust.p12");
      return pki;
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("test CA " + name, e);
    }
  }

  /** The trust store holding this authority's certificate. */
  public Path trustStore() {
    return dir.resolve(caName() + "-trust.p12");
  }

  /** A key store {@code DIR/NAME.p12} with a key pair and a certificate for {@code name}, signed here. */
  public Path keyStore(String name) throws IOException {
    try {
      KeyPair keys = keyPair();
      X509Certificate cert = sign(new X500Name("CN=" + name), keys, new X500Name(caCert.getSubjectX500Principal().getName()), caKeys, false);
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry(name, keys.getPrivate(), PASSWORD.toCharArray(), new X509Certificate[] {cert, caCert});
      return store(ks, name + ".p12");
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("test certificate " + name, e);
    }
  }

  /** This authority's certificate as a PEM file {@code DIR/NAME-ca.pem}. */
  public Path caPem() throws IOException {
    Path p = dir.resolve(caName() + "-ca.pem");
    Files.writeString(p, pem("CERTIFICATE", encoded(caCert)));
    return p;
  }

  /**
   * A certificate for {@code name} signed here, as PEM files the way operators keep them:
   * {@code DIR/NAME.crt} (leaf then CA) and {@code DIR/NAME.key} (unencrypted PKCS#8).
   */
  public Path[] pemPair(String name) throws IOException {
    try {
      KeyPair keys = keyPair();
      X509Certificate cert = sign(new X500Name("CN=" + name), keys, new X500Name(caCert.getSubjectX500Principal().getName()), caKeys, false);
      Path crt = dir.resolve(name + ".crt");
      Path key = dir.resolve(name + ".key");
      Files.writeString(crt, pem("CERTIFICATE", encoded(cert)) + pem("CERTIFICATE", encoded(caCert)));
      Files.writeString(key, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
      return new Path[] {crt, key};
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("test certificate " + name, e);
    }
  }

  private static byte[] encoded(X509Certificate c) throws IOException {
    try {
      return c.getEncoded();
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IOException(e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private String caName() {
    return caCert.getSubjectX500Principal().getName().substring("CN=".length());
  }

  private Path store(KeyStore ks, String file) throws IOException, GeneralSecurityException {
    Path p = dir.resolve(file);
    try (OutputStream out = Files.newOutputStream(p)) {
      ks.store(out, PASSWORD.toCharArray());
    }
    return p;
  }

  private static KeyPair keyPair() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static X509Certificate sign(X500Name subject, KeyPair subjectKeys, X500Name issuer, KeyPair issuerKeys, boolean ca)
      throws GeneralSecurityException, OperatorCreationException, IOException {
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, new SecureRandom()),
        Date.from(now.minusSeconds(60)), Date.from(now.plus(Duration.ofDays(2))), subject, subjectKeys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
    if (ca) {
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    } else {
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
          new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
    }
    return new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
  }
}
