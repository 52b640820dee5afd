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
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real TLS against both receivers: who gets in, who is refused, and how. */
class ReceiverTlsTest {
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

  private HttpResponse<byte[]> post(HttpClient c) throws Exception {
    return c.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + daemon.httpPort() + "/v1/traces"))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/x-protobuf")
            .POST(HttpRequest.BodyPublishers.ofByteArray(TestClients.request(2, "s3cret").toByteArray())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void http_clientWithTrustedCertificate_accepted() throws Exception {
    HttpResponse<byte[]> r = post(TestClients.http(pki.ca, pki.clientCert, pki.clientKey));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/x-protobuf");
    assertThat(buffer.size()).isEqualTo(1);
  }

  @Test
  void grpc_clientWithTrustedCertificate_accepted() throws Exception {
    ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, pki.clientCert, pki.clientKey);
    try {
      TraceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
          .export(TestClients.request(3, "s3cret"));
      assertThat(buffer.size()).isEqualTo(1);
    } finally {
      ch.shutdownNow();
    }
  }

  @Test
  void opensslWithoutClientCertificate_getsCertificateRequiredAlert116() throws Exception {
    for (int port : new int[] {daemon.httpPort(), daemon.grpcPort()}) {
      String out = sClient(port, "");
      assertThat(out).containsIgnoringCase("certificate required").contains("alert number 116");
    }
    assertThat(daemon.metrics().tlsHandshakeFailures()).isGreaterThanOrEqualTo(1);
    assertThat(daemon.metrics().render()).contains("reason=\"no_client_certificate\"");
  }

  @Test
  void opensslWithTrustedClientCertificate_handshakeCompletes() throws Exception {
    String out = sClient(daemon.httpPort(),
        " -CAfile " + pki.ca + " -cert " + pki.clientCert + " -key " + pki.clientKey);
    assertThat(out).contains("Verify return code: 0 (ok)").doesNotContain("alert number");
  }

  @Test
  void http_noClientCertificate_refused() throws Exception {
    assertThatThrownBy(() -> post(TestClients.http(pki.ca, null, null))).isInstanceOf(java.io.IOException.class);
    assertThat(buffer.size()).isZero();
  }

  @Test
  void http_certificateFromAnotherCa_refused() throws Exception {
    Path[] foreign = pki.foreignClient();
    assertThatThrownBy(() -> post(TestClients.http(pki.ca, foreign[0], foreign[1]))).isInstanceOf(java.io.IOException.class);
    assertThat(buffer.size()).isZero();
  }

  @Test
  void http_expiredClientCertificate_refused() throws Exception {
    Path[] expired = pki.expiredClient();
    assertThatThrownBy(() -> post(TestClients.http(pki.ca, expired[0], expired[1]))).isInstanceOf(java.io.IOException.class);
    assertThat(buffer.size()).isZero();
  }

  @Test
  void grpc_certificateFromAnotherCa_refused() throws Exception {
    Path[] foreign = pki.foreignClient();
    ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, foreign[0], foreign[1]);
    try {
      assertThatThrownBy(() -> TraceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
          .export(TestClients.request(1, "x"))).isInstanceOf(StatusRuntimeException.class);
    } finally {
      ch.shutdownNow();
    }
    assertThat(buffer.size()).isZero();
  }

  @Test
  void plaintextHttpToTlsPort_getsNoHttpResponse() throws Exception {
    for (int port : new int[] {daemon.httpPort(), daemon.grpcPort()}) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(5000);
        OutputStream out = s.getOutputStream();
        out.write(("POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
            + "Content-Length: 2\r\n\r\nab").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        byte[] got = in.readNBytes(64); // ends at EOF when the server closes
        assertThat(new String(got, StandardCharsets.ISO_8859_1)).doesNotContain("HTTP/");
      }
    }
    assertThat(buffer.size()).isZero();
  }

  @Test
  void certificateRotation_newHandshakesUseNewCertificate() throws Exception {
    // A new CA and server certificate replace the old files; clients of the new CA get in.
    TestPki next = new TestPki(dir.resolve("pki2"));
    HttpClient oldTrust = TestClients.http(pki.ca, pki.clientCert, pki.clientKey);
    assertThat(post(oldTrust).statusCode()).isEqualTo(200);
    long reloadsBefore = daemon.metrics().tlsReloads.sum();
    for (String f : new String[] {DevCertificates.SERVER_CERT, DevCertificates.SERVER_KEY, DevCertificates.CA_CERT}) {
      Path tmp = pki.dir.resolve(f + ".new");
      Files.copy(next.dir.resolve(f), tmp);
      Files.move(tmp, pki.dir.resolve(f), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    HttpClient newTrust = TestClients.http(next.ca, next.clientCert, next.clientKey);
    // Each listener's context reloads on its own poll (and may first see a half-replaced set of
    // files): wait, bounded, until the HTTP listener hands out the new certificate.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    int status = -1;
    while (status != 200 && System.nanoTime() < deadline) {
      try {
        status = post(newTrust).statusCode();
      } catch (java.io.IOException notYet) {
        Thread.sleep(20); // the reloader polls every 100 ms; bounded by the deadline
      }
    }
    assertThat(daemon.metrics().tlsReloads.sum()).isGreaterThan(reloadsBefore);
    assertThat(status).isEqualTo(200);
    // The old client certificate is from the old CA, which client_ca_file no longer holds.
    assertThatThrownBy(() -> post(TestClients.http(next.ca, pki.clientCert, pki.clientKey)))
        .isInstanceOf(java.io.IOException.class);
  }

  @Test
  void certificateRotation_connectedClientsKeepSending_nothingDropped() throws Exception {
    ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, pki.clientCert, pki.clientKey);
    try {
      var stub = TraceServiceGrpc.newBlockingStub(ch);
      stub.withDeadlineAfter(10, TimeUnit.SECONDS).export(TestClients.request(1, "v")); // connected
      long reloadsBefore = daemon.metrics().tlsReloads.sum();
      int sent = 0;
      int failed = 0;
      boolean rotated = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      // Keep sending over the open connection while the server's files are replaced and reloaded,
      // and for a while after the reload has happened.
      for (int i = 0; i < 2_000 && System.nanoTime() < deadline; i++) {
        if (i == 5) {
          TestPki next = new TestPki(dir.resolve("pki-rotated"));
          for (String f : new String[] {DevCertificates.SERVER_CERT, DevCertificates.SERVER_KEY, DevCertificates.CA_CERT}) {
            Path tmp = pki.dir.resolve(f + ".new");
            Files.copy(next.dir.resolve(f), tmp);
            Files.move(tmp, pki.dir.resolve(f), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
          }
          rotated = true;
        }
        try {
          stub.withDeadlineAfter(10, TimeUnit.SECONDS).export(TestClients.request(1, "v"));
        } catch (StatusRuntimeException e) {
          failed++;
        }
        sent++;
        if (rotated && daemon.metrics().tlsReloads.sum() > reloadsBefore + 1 && sent >= 50) {
          break; // reloaded (both listeners) and kept sending after it
        }
        Thread.sleep(20); // the client's pace
      }
      assertThat(daemon.metrics().tlsReloads.sum()).as("the files were reloaded").isGreaterThan(reloadsBefore);
      assertThat(failed).as("requests of %d failed on the connection opened before the rotation", sent).isZero();
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static String sClient(int port, String extra) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c",
        "(sleep 2) | timeout 10 openssl s_client -connect 127.0.0.1:" + port + " -tls1_3" + extra + " 2>&1");
    pb.redirectErrorStream(true);
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }

  @Test
  void grpc_failedHandshakes_areCountedByReasonForTheGrpcListener() throws Exception {
    // no client certificate
    ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, null, null);
    try {
      assertThatThrownBy(() -> TraceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
          .export(TestClients.request(1, "s3cret"))).isInstanceOf(io.grpc.StatusRuntimeException.class);
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    // an expired certificate from the right CA (a foreign CA's certificate is not even offered:
    // the client's key manager matches the server's CA list, so that counts as no certificate)
    Path[] expired = pki.expiredClient();
    ManagedChannel ch2 = TestClients.grpc(daemon.grpcPort(), pki.ca, expired[0], expired[1]);
    try {
      assertThatThrownBy(() -> TraceServiceGrpc.newBlockingStub(ch2).withDeadlineAfter(10, TimeUnit.SECONDS)
          .export(TestClients.request(1, "s3cret"))).isInstanceOf(io.grpc.StatusRuntimeException.class);
    } finally {
      ch2.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    // plaintext bytes to the TLS port
    try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), daemon.grpcPort())) {
      s.setSoTimeout(5000);
      s.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      assertThat(s.getInputStream().read()).isEqualTo(-1); // closed, no HTTP/2 answer
    }
    String prom = "";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) { // the server counts on its event loop, after the client saw the close
      prom = daemon.metrics().render();
      if (prom.contains("listener=\"grpc\",reason=\"not_tls\"")) {
        break;
      }
      Thread.sleep(10);
    }
    assertThat(prom)
        .contains("listener=\"grpc\",reason=\"no_client_certificate\"")
        .contains("listener=\"grpc\",reason=\"bad_client_certificate\"")
        .contains("listener=\"grpc\",reason=\"not_tls\"");
    assertThat(buffer.size()).isZero();
  }
}
