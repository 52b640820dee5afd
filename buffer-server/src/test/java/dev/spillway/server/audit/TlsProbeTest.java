package dev.spillway.server.audit;

import static dev.spillway.server.audit.AuditTesting.command;
import static dev.spillway.server.audit.AuditTesting.fixedClock;
import static dev.spillway.server.audit.AuditTesting.fixtureEnvironment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import dev.spillway.server.audit.AuditTesting.CommandRun;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --probe against real servers on 127.0.0.1 ephemeral ports: JSSE servers with client auth
 * required (TLS 1.3 and 1.2), optional and none, an OpenSSL s_server requiring a certificate, and
 * the JDK's plaintext HTTP server.
 */
class TlsProbeTest {

  @TempDir static Path pkiRoot;
  private static DevPki pki;
  private static DevPki shortLived;

  private final List<AutoCloseable> servers = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @BeforeAll
  static void createPki() throws Exception {
    pki = DevPki.create(pkiRoot.resolve("pki"), 397);
    shortLived = DevPki.create(pkiRoot.resolve("short"), 10);
  }

  @AfterEach
  void stopServers() throws Exception {
    for (AutoCloseable s : servers) {
      s.close();
    }
    pool.shutdownNow();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  private enum ClientAuth { REQUIRED, OPTIONAL, NONE }

  /** A JSSE server that drives each handshake, then waits for the client to go away. */
  private int jsseServer(DevPki certs, ClientAuth auth, String... protocols) throws Exception {
    SSLServerSocket server = (SSLServerSocket) certs.serverContext().getServerSocketFactory()
        .createServerSocket(0, 8, InetAddress.getLoopbackAddress());
    if (protocols.length > 0) {
      server.setEnabledProtocols(protocols);
    }
    server.setNeedClientAuth(auth == ClientAuth.REQUIRED);
    if (auth == ClientAuth.OPTIONAL) {
      server.setWantClientAuth(true);
    }
    servers.add(server);
    pool.execute(() -> {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          pool.execute(() -> handle((SSLSocket) s));
        } catch (IOException e) {
          return; // closed by the test
        }
      }
    });
    return server.getLocalPort();
  }

  private static void handle(SSLSocket s) {
    try (s) {
      s.setSoTimeout(10_000);
      s.startHandshake();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[256];
      while (in.read(buf) >= 0) {
        // discard until the client closes; bounded by the socket timeout
      }
    } catch (IOException e) {
      // refused handshakes and plaintext input end up here: that is the server doing its job
    }
  }

  private CommandRun probe(int port) {
    return command(fixtureEnvironment(), "--probe", "127.0.0.1:" + port);
  }

  private static List<String> outcomes(int port, Audit.Environment env) {
    return AuditTesting.outcomes(new Audit(env).run(List.of(), List.of("127.0.0.1:" + port), EnumSet.noneOf(Rule.class)));
  }

  @Test
  void probe_clientAuthRequiredTls13_reportsMtlsEnforcedWithAlert() throws Exception {
    int port = jsseServer(pki, ClientAuth.REQUIRED, "TLSv1.3");
    CommandRun r = probe(port);
    assertThat(r.exitCode()).as(r.out()).isZero();
    assertThat(r.out()).containsPattern("PASS  PROBE-MTLS .*\\n.*refused with alert (116 certificate_required|42 bad_certificate)"
        + " after the client's side of the handshake");
    assertThat(r.out()).contains("accepted client CAs: CN=Spillway Dev CA");
    assertThat(r.out()).contains("negotiated TLSv1.3");
    assertThat(outcomes(port, fixtureEnvironment())).containsExactly(
        "PROBE-CERT-EXPIRY:pass", "PROBE-MTLS:pass", "PROBE-PLAINTEXT:pass", "PROBE-TLS-VERSION:pass");
  }

  @Test
  void probe_clientAuthRequiredTls12_refusedDuringHandshake() throws Exception {
    int port = jsseServer(pki, ClientAuth.REQUIRED, "TLSv1.2");
    CommandRun r = probe(port);
    assertThat(r.exitCode()).as(r.out()).isZero();
    assertThat(r.out()).contains("during the handshake").contains("negotiated TLSv1.2 (TLS 1.3 was offered and not chosen)");
  }

  @Test
  void probe_clientAuthNone_failsTlsWithoutClientAuth() throws Exception {
    int port = jsseServer(pki, ClientAuth.NONE);
    CommandRun r = probe(port);
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).containsPattern("FAIL  PROBE-MTLS .*\\n.*TLS without client authentication: a client with no"
        + " certificate was never asked for one");
    assertThat(outcomes(port, fixtureEnvironment())).containsExactly(
        "PROBE-CERT-EXPIRY:pass", "PROBE-MTLS:fail", "PROBE-PLAINTEXT:pass", "PROBE-TLS-VERSION:pass");
  }

  @Test
  void probe_clientAuthOptional_failsAndSaysItWasAsked() throws Exception {
    int port = jsseServer(pki, ClientAuth.OPTIONAL);
    CommandRun r = probe(port);
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).contains("was asked for one (client_auth optional) but accepted without it");
  }

  @Test
  void probe_plaintextHttpServer_failsAsALeak() throws Exception {
    HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    http.createContext("/", ex -> {
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    http.start();
    servers.add(() -> http.stop(0));
    int port = http.getAddress().getPort();
    CommandRun r = probe(port);
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).containsPattern("FAIL  PROBE-PLAINTEXT .*\\n.*no TLS: the endpoint answered a plaintext request \\(HTTP/1.1 200");
    assertThat(outcomes(port, fixtureEnvironment())).containsExactly("PROBE-PLAINTEXT:fail");
  }

  @Test
  void probe_certificateExpiringIn10Days_warns() throws Exception {
    int port = jsseServer(shortLived, ClientAuth.REQUIRED);
    assertThat(outcomes(port, fixtureEnvironment())).contains("PROBE-CERT-EXPIRY:warn", "PROBE-MTLS:pass");
    CommandRun r = probe(port);
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).containsPattern("expires in (9|10) days");
  }

  @Test
  void probe_certificateAlreadyExpired_fails() throws Exception {
    int port = jsseServer(shortLived, ClientAuth.REQUIRED);
    Audit.Environment later = fixtureEnvironment(fixedClock(Instant.now().plus(Duration.ofDays(11)).toString()));
    assertThat(outcomes(port, later)).contains("PROBE-CERT-EXPIRY:fail");
  }

  @Test
  void probe_closedPort_exitsTwoNamingTheTarget() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    CommandRun r = probe(port);
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("127.0.0.1:" + port + ": connection refused");
  }

  @Test
  void probe_opensslServerRequiringCertificate_alert116() throws Exception {
    Process p;
    try {
      p = new ProcessBuilder("openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "2", "-tls1_3",
          "-cert", pki.file("server.crt").toString(), "-key", pki.file("server.key").toString(),
          "-CAfile", pki.file("ca.crt").toString(), "-Verify", "1")
          .redirectErrorStream(true).start();
    } catch (IOException e) {
      assumeTrue(false, "openssl not runnable: " + e);
      return;
    }
    servers.add(() -> {
      p.destroy();
      p.waitFor(5, TimeUnit.SECONDS);
    });
    BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    Pattern accept = Pattern.compile("ACCEPT 127\\.0\\.0\\.1:(\\d+)");
    // Read s_server's output on a pool thread: its "ACCEPT host:port" line gives the port, and the
    // rest is drained so the process never blocks on a full pipe. The wait for the port is bounded.
    CompletableFuture<Integer> announced = new CompletableFuture<>();
    pool.execute(() -> {
      try {
        for (String line; (line = lines.readLine()) != null; ) {
          Matcher m = accept.matcher(line);
          if (m.find()) {
            announced.complete(Integer.parseInt(m.group(1)));
          }
        }
        announced.completeExceptionally(new IOException("s_server ended without ACCEPT"));
      } catch (IOException e) {
        announced.completeExceptionally(e);
      }
    });
    int port = announced.get(20, TimeUnit.SECONDS);
    CommandRun r = probe(port);
    assertThat(r.exitCode()).as(r.out()).isZero();
    assertThat(r.out()).contains("refused with alert 116 certificate_required after the client's side of the handshake");
  }
}
