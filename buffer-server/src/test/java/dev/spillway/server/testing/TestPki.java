package dev.spillway.server.testing;

import dev.spillway.server.tls.DevCertificates;
import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;

/** Real certificates for tests: the dev set plus a foreign CA's client and an expired client. */
public final class TestPki {
  public final Path dir;
  public final Path ca;
  public final Path serverCert;
  public final Path serverKey;
  public final Path clientCert;
  public final Path clientKey;

  public TestPki(Path dir) throws IOException {
    this.dir = dir;
    DevCertificates.write(dir, Duration.ofDays(2));
    ca = dir.resolve("ca.crt");
    serverCert = dir.resolve("server.crt");
    serverKey = dir.resolve("server.key");
    clientCert = dir.resolve("client.crt");
    clientKey = dir.resolve("client.key");
  }

  /** A client certificate from a CA the server does not trust: files foreign.crt/foreign.key. */
  public Path[] foreignClient() throws IOException {
    DevCertificates.Authority other = DevCertificates.authority("Some other CA", Duration.ofDays(2));
    KeyPair kp = DevCertificates.keyPair();
    Instant now = Instant.now();
    DevCertificates.writePem(dir.resolve("foreign.crt"),
        DevCertificates.sign(other, "intruder", kp, false, now.minusSeconds(60), now.plusSeconds(3600)), false);
    DevCertificates.writeKey(dir.resolve("foreign.key"), kp);
    return new Path[] {dir.resolve("foreign.crt"), dir.resolve("foreign.key")};
  }

  /** A valid client certificate from the right CA with CN and DNS SAN {@code name}: NAME.crt/NAME.key. */
  public Path[] clientNamed(String name) throws IOException {
    DevCertificates.Authority ca = loadCa();
    KeyPair kp = DevCertificates.keyPair();
    Instant now = Instant.now();
    DevCertificates.writePem(dir.resolve(name + ".crt"),
        DevCertificates.sign(ca, name, kp, false, now.minusSeconds(60), now.plusSeconds(3600)), false);
    DevCertificates.writeKey(dir.resolve(name + ".key"), kp);
    return new Path[] {dir.resolve(name + ".crt"), dir.resolve(name + ".key")};
  }

  /** A client certificate from the right CA that expired yesterday: expired.crt/expired.key. */
  public Path[] expiredClient() throws IOException {
    DevCertificates.Authority ca = loadCa();
    KeyPair kp = DevCertificates.keyPair();
    Instant now = Instant.now();
    DevCertificates.writePem(dir.resolve("expired.crt"),
        DevCertificates.sign(ca, "spillway-dev-client", kp, false, now.minus(Duration.ofDays(3)),
            now.minus(Duration.ofDays(1))), false);
    DevCertificates.writeKey(dir.resolve("expired.key"), kp);
    return new Path[] {dir.resolve("expired.crt"), dir.resolve("expired.key")};
  }

  private DevCertificates.Authority loadCa() throws IOException {
    java.security.cert.X509Certificate cert = dev.spillway.server.tls.PemFiles.certificates(ca).get(0);
    java.security.PrivateKey key = dev.spillway.server.tls.PemFiles.privateKey(dir.resolve("ca.key"));
    return new DevCertificates.Authority(cert, new KeyPair(cert.getPublicKey(), key));
  }
}
