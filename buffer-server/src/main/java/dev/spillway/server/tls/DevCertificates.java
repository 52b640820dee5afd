package dev.spillway.server.tls;

import dev.spillway.core.internal.PrivateFiles;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Development certificates: a CA, a server certificate for localhost/127.0.0.1/::1 and a client
 * certificate, with unencrypted PKCS#8 keys ({@code BEGIN PRIVATE KEY}, the only form the
 * OpenTelemetry Java SDK reads). ECDSA P-256, signed with the JDK's own provider; BouncyCastle
 * only builds and encodes. Keys are written 0600 in a 0700 directory. Not for production.
 */
public final class DevCertificates {
  public static final String CA_CERT = "ca.crt";
  public static final String CA_KEY = "ca.key";
  public static final String SERVER_CERT = "server.crt";
  public static final String SERVER_KEY = "server.key";
  public static final String CLIENT_CERT = "client.crt";
  public static final String CLIENT_KEY = "client.key";

  private static final SecureRandom RANDOM = new SecureRandom();

  /** A CA's certificate and key pair, for signing more certificates (tests make several CAs). */
  public record Authority(X509Certificate certificate, KeyPair keys) {}

  private DevCertificates() {}

  /**
   * Writes ca.crt, ca.key, server.crt, server.key, client.crt, client.key into {@code dir}.
   * Refuses to overwrite existing files.
   */
  public static void write(Path dir, Duration validity) throws IOException {
    for (String f : List.of(CA_CERT, SERVER_CERT, SERVER_KEY, CLIENT_CERT, CLIENT_KEY)) {
      if (Files.exists(dir.resolve(f))) {
        throw new IOException(dir.resolve(f) + " already exists; refusing to overwrite certificates");
      }
    }
    PrivateFiles.createPrivateDirectories(dir);
    Authority ca = authority("Spillway development CA", validity);
    KeyPair server = keyPair();
    KeyPair client = keyPair();
    Instant now = Instant.now();
    writePem(dir.resolve(CA_CERT), ca.certificate(), false);
    writeKey(dir.resolve(CA_KEY), ca.keys());
    writePem(dir.resolve(SERVER_CERT), sign(ca, "localhost", server, true, now.minusSeconds(60), now.plus(validity)), false);
    writeKey(dir.resolve(SERVER_KEY), server);
    writePem(dir.resolve(CLIENT_CERT), sign(ca, "spillway-dev-client", client, false, now.minusSeconds(60), now.plus(validity)), false);
    writeKey(dir.resolve(CLIENT_KEY), client);
  }

  public static Authority authority(String name, Duration validity) throws IOException {
    try {
      KeyPair kp = keyPair();
      Instant now = Instant.now();
      X500Principal subject = new X500Principal("CN=" + name);
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(),
          Date.from(now.minusSeconds(60)), Date.from(now.plus(validity)), subject, kp.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
      return new Authority(convert(b, kp), kp);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot create a development CA", e);
    }
  }

  /**
   * A leaf certificate signed by {@code ca}: a server one (SANs localhost, 127.0.0.1, ::1) or a
   * client one (SAN DNS:{@code cn}), valid from {@code notBefore} to {@code notAfter}.
   */
  public static X509Certificate sign(Authority ca, String cn, KeyPair leaf, boolean server,
      Instant notBefore, Instant notAfter) throws IOException {
    try {
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.certificate(), serial(),
          Date.from(notBefore), Date.from(notAfter), new X500Principal("CN=" + cn), leaf.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
      b.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(server ? KeyPurposeId.id_kp_serverAuth : KeyPurposeId.id_kp_clientAuth));
      b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca.certificate()));
      GeneralNames sans = server
          ? new GeneralNames(new GeneralName[] {
              new GeneralName(GeneralName.dNSName, "localhost"),
              new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
              new GeneralName(GeneralName.iPAddress, "::1")})
          : new GeneralNames(new GeneralName(GeneralName.dNSName, cn));
      b.addExtension(Extension.subjectAlternativeName, false, sans);
      return convert(b, ca.keys());
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot sign a development certificate", e);
    }
  }

  public static KeyPair keyPair() throws IOException {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot generate an EC key pair", e);
    }
  }

  public static void writePem(Path file, X509Certificate cert, boolean append) throws IOException {
    StringWriter sw = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
      w.writeObject(cert);
    }
    byte[] bytes = sw.toString().getBytes(StandardCharsets.US_ASCII);
    if (append && Files.exists(file)) {
      Files.write(file, bytes, java.nio.file.StandardOpenOption.APPEND);
    } else {
      PrivateFiles.writeAtomically(file, bytes);
    }
  }

  /** Writes an unencrypted PKCS#8 key ({@code BEGIN PRIVATE KEY}), 0600. */
  public static void writeKey(Path file, KeyPair kp) throws IOException {
    StringWriter sw = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
      w.writeObject(new JcaPKCS8Generator(kp.getPrivate(), null));
    }
    PrivateFiles.writeAtomically(file, sw.toString().getBytes(StandardCharsets.US_ASCII));
  }

  private static X509Certificate convert(X509v3CertificateBuilder b, KeyPair signer)
      throws GeneralSecurityException, OperatorCreationException {
    ContentSigner s = new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate());
    return new JcaX509CertificateConverter().getCertificate(b.build(s));
  }

  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }
}
