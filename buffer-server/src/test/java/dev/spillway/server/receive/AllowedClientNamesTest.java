package dev.spillway.server.receive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.testing.InMemoryBuffer;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tls.allowed_client_names}: a client certificate from the trusted CA but with another
 * CN/SAN is refused in the handshake on both receivers; one with an allowed name gets in.
 */
class AllowedClientNamesTest {
  @TempDir Path dir;
  TestPki pki;
  InMemoryBuffer buffer;
  Daemon daemon;
  Path[] allowed;

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
    allowed = pki.clientNamed("collector-a.internal");
    String yaml = TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", 1 << 20)
        .replace("reload_interval: 100ms\n", "reload_interval: 100ms\n          allowed_client_names: [collector-a.internal, other.internal]\n");
    assertThat(yaml).contains("allowed_client_names");
    buffer = new InMemoryBuffer(100);
    daemon = Daemon.start(TestConfigs.load(dir, yaml), Role.INGEST, buffer.opener());
  }

  @AfterEach
  void tearDown() {
    daemon.close();
  }

  private int post(HttpClient c) throws Exception {
    return c.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + daemon.httpPort() + "/v1/traces"))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/x-protobuf")
            .POST(HttpRequest.BodyPublishers.ofByteArray(TestClients.request(2, "s3cret").toByteArray())).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private void grpc(Path cert, Path key) throws Exception {
    ManagedChannel ch = TestClients.grpc(daemon.grpcPort(), pki.ca, cert, key);
    try {
      TraceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS).export(TestClients.request(3, "s3cret"));
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void http_trustedCertificateWithAnotherName_refused_allowedNameAccepted() throws Exception {
    // pki.clientCert is from the trusted CA, CN and SAN spillway-dev-client: not on the list
    assertThatThrownBy(() -> post(TestClients.http(pki.ca, pki.clientCert, pki.clientKey)))
        .isInstanceOf(java.io.IOException.class);
    assertThat(buffer.size()).isZero();
    assertThat(post(TestClients.http(pki.ca, allowed[0], allowed[1]))).isEqualTo(200);
    assertThat(buffer.size()).isEqualTo(1);
  }

  @Test
  void grpc_trustedCertificateWithAnotherName_refused_allowedNameAccepted() throws Exception {
    assertThatThrownBy(() -> grpc(pki.clientCert, pki.clientKey))
        .isInstanceOf(StatusRuntimeException.class)
        .hasMessageContaining("UNAVAILABLE");
    assertThat(buffer.size()).isZero();
    grpc(allowed[0], allowed[1]);
    assertThat(buffer.size()).isEqualTo(1);
  }
}
