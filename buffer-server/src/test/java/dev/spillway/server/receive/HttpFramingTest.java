package dev.spillway.server.receive;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.testing.InMemoryBuffer;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13 item 8: a request whose length could be read two ways is refused with 400 and the
 * connection closed, never guessed at; the plain chunked form still works. Raw requests over a
 * real mTLS socket, so nothing in a client library tidies them up first.
 */
class HttpFramingTest {
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

  /** Sends the head and a chunked body holding a valid request; returns everything the server said. */
  String send(String headers) throws Exception {
    byte[] proto = TestClients.request(2, "v").toByteArray();
    ByteArrayOutputStream req = new ByteArrayOutputStream();
    req.write(("POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nConnection: close\r\n" + headers
        + "\r\n" + Integer.toHexString(proto.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
    req.write(proto);
    req.write("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    try (SSLSocket s = (SSLSocket) TestClients.sslContext(pki.ca, pki.clientCert, pki.clientKey).getSocketFactory()
        .createSocket("127.0.0.1", daemon.httpPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(req.toByteArray());
      out.flush();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void http_twoTransferEncodingLines_400() throws Exception {
    assertThat(send("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"))
        .startsWith("HTTP/1.1 400").contains("more than once");
    assertThat(buffer.size()).isZero();
  }

  @Test
  void http_ambiguousFraming_400Each() throws Exception {
    for (String headers : new String[] {
        "Transfer-Encoding: chunked, chunked\r\n",
        "Transfer-Encoding: gzip, chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
        "Transfer-Encoding: xchunked\r\n",
        "Content-Length: 10\r\nContent-Length: 10\r\n",
    }) {
      assertThat(send(headers)).as(headers).startsWith("HTTP/1.1 400");
    }
    assertThat(buffer.size()).isZero();
    assertThat(daemon.metrics().requests("http", "bad_request")).isEqualTo(5);
  }

  @Test
  void http_plainChunked_accepted() throws Exception {
    assertThat(send("Transfer-Encoding: chunked\r\n")).startsWith("HTTP/1.1 200");
    assertThat(buffer.size()).isEqualTo(1);
  }
}
