package dev.spillway.server.receive;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.testing.InMemoryBuffer;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import io.grpc.ManagedChannel;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13 item 5 on both listeners: connections that never finish a TLS handshake cannot lock
 * out authenticated clients, and {@code read_timeout} covers a request's headers as well as its
 * body. Both receivers with {@code max_connections: 100}.
 */
class ConnectionLimitsTest {
  static final int MAX_CONNECTIONS = 100;
  @TempDir Path dir;
  TestPki pki;
  InMemoryBuffer buffer;
  Daemon daemon;
  final List<Socket> sockets = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
    buffer = new InMemoryBuffer(1000);
  }

  /** Both receivers with {@code max_connections: 100}; HTTP with this {@code read_timeout}. */
  void startDaemon(String readTimeout) throws Exception {
    String yaml = TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", 1 << 20)
        .replace("        max_recv_msg_size_mib: 1\n",
            "        max_recv_msg_size_mib: 1\n        max_connections: " + MAX_CONNECTIONS + "\n")
        .replace("        max_request_body_size: " + (1 << 20) + "\n", "        max_request_body_size: " + (1 << 20)
            + "\n        max_connections: " + MAX_CONNECTIONS + "\n        read_timeout: " + readTimeout + "\n");
    assertThat(yaml).contains("read_timeout: " + readTimeout).containsPattern("(?s)max_connections.*max_connections");
    daemon = Daemon.start(TestConfigs.load(dir, yaml), Role.INGEST, buffer.opener());
  }

  @AfterEach
  void tearDown() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    if (daemon != null) {
      daemon.close();
    }
  }

  /** 110 TCP connections that send no TLS bytes, held open. */
  void idleFlood(int port) throws IOException {
    for (int i = 0; i < MAX_CONNECTIONS + 10; i++) {
      Socket s = new Socket();
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      sockets.add(s);
    }
  }

  @Test
  void http_110IdleSocketsWithoutTlsBytes_legitimateMtlsClientsAllServed() throws Exception {
    startDaemon("30s");
    idleFlood(daemon.httpPort());
    int served = 0;
    for (int i = 0; i < 6; i++) { // each on a new connection, as the attack run did
      HttpClient http = TestClients.http(pki.ca, pki.clientCert, pki.clientKey);
      HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + daemon.httpPort() + "/v1/traces"))
          .timeout(Duration.ofSeconds(5)).header("Content-Type", "application/x-protobuf")
          .POST(HttpRequest.BodyPublishers.ofByteArray(TestClients.request(2, "v").toByteArray())).build(),
          HttpResponse.BodyHandlers.discarding());
      served += r.statusCode() == 200 ? 1 : 0;
    }
    assertThat(served).isEqualTo(6);
    assertThat(daemon.metrics().render())
        .contains("outcome=\"connection_closed_handshaking_over_limit\",signal=\"none\",transport=\"http\"");
  }

  @Test
  void grpc_110IdleSocketsWithoutTlsBytes_legitimateMtlsClientsAllServed() throws Exception {
    startDaemon("30s");
    idleFlood(daemon.grpcPort());
    int served = 0;
    for (int i = 0; i < 6; i++) {
      ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, pki.clientCert, pki.clientKey);
      try {
        TraceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS).export(TestClients.request(2, "v"));
        served++;
      } finally {
        ch.shutdownNow();
      }
    }
    assertThat(served).isEqualTo(6);
    assertThat(daemon.metrics().render())
        .contains("outcome=\"connection_closed_handshaking_over_limit\",signal=\"none\",transport=\"grpc\"");
  }

  @Test
  void http_admittedConnectionsOverTheLimit_closedAndCountedUnderTheSameTransportLabel() throws Exception {
    startDaemon("60s");
    List<SSLSocket> held = new ArrayList<>();
    for (int i = 0; i < MAX_CONNECTIONS; i++) {
      held.add(handshaken());
    }
    SSLSocket extra = handshaken();
    assertThat(extra.getInputStream().read()).as("the 101st admitted connection is closed").isEqualTo(-1);
    assertThat(daemon.metrics().render())
        .contains("outcome=\"connection_refused_over_limit\",signal=\"none\",transport=\"http\"");
    held.get(0).close();
    // A slot freed: wait (bounded) until the server has seen the close, then a client gets in.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    int status = 0;
    while (status != 200 && System.nanoTime() < deadline) {
      try {
        status = TestClients.http(pki.ca, pki.clientCert, pki.clientKey).send(
            HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + daemon.httpPort() + "/v1/traces"))
                .timeout(Duration.ofSeconds(2)).header("Content-Type", "application/x-protobuf")
                .POST(HttpRequest.BodyPublishers.ofByteArray(TestClients.request(1, "v").toByteArray())).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode();
      } catch (IOException closedOverLimit) {
        TimeUnit.MILLISECONDS.sleep(20); // the server's close of held.get(0) is in flight
      }
    }
    assertThat(status).isEqualTo(200);
  }

  /** A client that trickles header bytes, one every 100 ms, never finishing: 408 at read_timeout. */
  @Test
  void http_headerTrickle_cutAtReadTimeoutWith408() throws Exception {
    startDaemon("2s");
    SSLSocket s = handshaken();
    OutputStream out = s.getOutputStream();
    byte[] head = ("POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nX-Slow: "
        + "a".repeat(300)).getBytes(StandardCharsets.US_ASCII);
    long t0 = System.nanoTime();
    Thread trickler = new Thread(() -> {
      try {
        for (byte b : head) {
          out.write(b);
          out.flush();
          TimeUnit.MILLISECONDS.sleep(100); // the attack is the pace itself
        }
      } catch (IOException | InterruptedException cutOff) {
        // the server closed the connection: what we expect
      }
    }, "header-trickle");
    trickler.setDaemon(true);
    trickler.start();
    String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    trickler.interrupt();
    assertThat(answer).startsWith("HTTP/1.1 408");
    assertThat(millis).as("cut after %d ms", millis).isBetween(1_900L, 6_000L);
  }

  @Test
  void http_connectionSilentAfterHandshake_closedAfterReadTimeout() throws Exception {
    startDaemon("2s");
    SSLSocket s = handshaken();
    long t0 = System.nanoTime();
    assertThat(s.getInputStream().read()).isEqualTo(-1);
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(millis).as("closed after %d ms", millis).isBetween(1_900L, 6_000L);
  }

  private SSLSocket handshaken() throws Exception {
    SSLSocket s = (SSLSocket) TestClients.sslContext(pki.ca, pki.clientCert, pki.clientKey).getSocketFactory()
        .createSocket("127.0.0.1", daemon.httpPort());
    s.setSoTimeout(15_000);
    s.startHandshake();
    sockets.add(s);
    return s;
  }

  static void drain(InputStream in) throws IOException {
    in.readAllBytes();
  }
}
