package dev.spillway.server.receive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.testing.InMemoryBuffer;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import dev.spillway.server.tls.DevCertificates;
import dev.spillway.server.tls.PemFiles;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13 item 6: client certificates from the trusted CA that are SHA-1-signed or carry an
 * RSA key under 2048 bits are refused on both listeners, counted as {@code weak_client_certificate};
 * an RSA-2048 SHA-256 certificate from the same CA gets in. Certificates made here with
 * BouncyCastle; the clients are the JDK's HTTP client (JSSE) and grpc-java on BoringSSL.
 */
class WeakClientCertificatesTest {
  @TempDir Path dir;
  TestPki pki;
  InMemoryBuffer buffer;
  Daemon daemon;

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
    buffer = new InMemoryBuffer(100);
    daemon = Daemon.start(
        TestConfigs.load(dir, TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", 1 << 20)),
        Role.INGEST, buffer.opener());
  }

  @AfterEach
  void tearDown() {
    daemon.close();
  }

  /** A client certificate from the test CA: files NAME.crt / NAME.key. */
  Path[] client(String name, KeyPair key, String signatureAlgorithm) throws Exception {
    X509Certificate ca = PemFiles.certificates(pki.ca).get(0);
    PrivateKey caKey = PemFiles.privateKey(pki.dir.resolve("ca.key"));
    Instant now = Instant.now();
    var b = new JcaX509v3CertificateBuilder(ca, BigInteger.valueOf(now.toEpochMilli()),
        Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3600)), new X500Principal("CN=" + name), key.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
    X509Certificate cert = new JcaX509CertificateConverter()
        .getCertificate(b.build(new JcaContentSignerBuilder(signatureAlgorithm).build(caKey)));
    Path crt = pki.dir.resolve(name + ".crt");
    Path keyFile = pki.dir.resolve(name + ".key");
    DevCertificates.writePem(crt, cert, false);
    DevCertificates.writeKey(keyFile, key);
    return new Path[] {crt, keyFile};
  }

  static KeyPair rsa(int bits) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(bits);
    return g.generateKeyPair();
  }

  int httpStatus(Path[] client) throws Exception {
    return TestClients.http(pki.ca, client[0], client[1]).send(
        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + daemon.httpPort() + "/v1/traces"))
            .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/x-protobuf")
            .POST(HttpRequest.BodyPublishers.ofByteArray(TestClients.request(1, "v").toByteArray())).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  void grpcExport(Path[] client) throws Exception {
    ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, client[0], client[1]);
    try {
      TraceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS).export(TestClients.request(1, "v"));
    } finally {
      ch.shutdownNow();
    }
  }

  /**
   * The listener's weak-certificate refusals, once counted: the server counts a failed handshake
   * on its own event loop, which may finish after the client has already seen the refusal. Waits
   * up to 5 s for a positive count.
   */
  long weakRefusals(String listener) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    long n = weakRefusalsNow(listener);
    while (n == 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
      n = weakRefusalsNow(listener);
    }
    return n;
  }

  long weakRefusalsNow(String listener) {
    String line = daemon.metrics().render().lines()
        .filter(l -> l.startsWith("spillway_tls_handshake_failures_total{") && l.contains("listener=\"" + listener + "\"")
            && l.contains("reason=\"weak_client_certificate\""))
        .findFirst().orElse("x 0");
    return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
  }

  @Test
  void sha1SignedClientCertificate_refusedOnBothListeners() throws Exception {
    Path[] sha1 = client("sha1-client", DevCertificates.keyPair(), "SHA1withECDSA");
    assertThatThrownBy(() -> httpStatus(sha1)).isInstanceOf(java.io.IOException.class);
    assertThatThrownBy(() -> grpcExport(sha1)).isInstanceOf(StatusRuntimeException.class);
    assertThat(weakRefusals("http")).isPositive();
    assertThat(weakRefusals("grpc")).isPositive();
    assertThat(buffer.size()).isZero();
  }

  @Test
  void rsa1024ClientCertificate_refusedOnBothListeners() throws Exception {
    Path[] small = client("rsa1024-client", rsa(1024), "SHA256withECDSA");
    assertThatThrownBy(() -> httpStatus(small)).isInstanceOf(java.io.IOException.class);
    assertThatThrownBy(() -> grpcExport(small)).isInstanceOf(StatusRuntimeException.class);
    assertThat(weakRefusals("http")).isPositive();
    assertThat(weakRefusals("grpc")).isPositive();
    assertThat(buffer.size()).isZero();
  }

  @Test
  void rsa2048Sha256ClientCertificate_acceptedOnBothListeners() throws Exception {
    Path[] strong = client("rsa2048-client", rsa(2048), "SHA256withECDSA");
    assertThat(httpStatus(strong)).isEqualTo(200);
    grpcExport(strong);
    assertThat(buffer.size()).isEqualTo(2);
  }
}
