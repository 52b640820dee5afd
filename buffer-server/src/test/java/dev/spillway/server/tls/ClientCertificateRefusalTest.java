package dev.spillway.server.tls;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.BufferOpener;
import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * A client certificate the receivers refuse gets the alert its TLS library would normally send
 * (48 unknown_ca for a foreign CA, 45 certificate_expired), not 80 internal_error, on both
 * listeners and both TLS versions, checked with {@code openssl s_client}; the daemon logs why.
 */
class ClientCertificateRefusalTest {
  @TempDir Path dir;
  TestPki pki;
  Daemon daemon;
  ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
    LocalKeys.init(dir.resolve("keys"));
    daemon = Daemon.start(TestConfigs.load(dir, TestConfigs.daemon(pki, dir.resolve("spill"), dir.resolve("keys"), "", 1 << 20)),
        Role.BOTH, BufferOpener.spillBuffer());
    logs.start();
    ((Logger) LoggerFactory.getLogger(ClientNameCheck.class)).addAppender(logs);
  }

  @AfterEach
  void tearDown() {
    ((Logger) LoggerFactory.getLogger(ClientNameCheck.class)).detachAppender(logs);
    daemon.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"-tls1_3", "-tls1_2"})
  void foreignCaClient_getsUnknownCaAlert48_andTheReasonIsLogged(String version) throws Exception {
    Path[] foreign = pki.foreignClient();
    for (int port : new int[] {daemon.httpPort(), daemon.grpcPort()}) {
      String out = sClient(port, version, foreign[0], foreign[1]);
      assertThat(out).as("port " + port + (port == daemon.grpcPort() ? " (grpc)" : " (http)") + ":\n" + out)
          .contains("alert number 48").doesNotContain("alert number 80");
    }
    assertThat(logs.list).anyMatch(e -> e.getFormattedMessage().contains("refused a client certificate: unknown CA")
        && e.getFormattedMessage().contains("CN=intruder"));
  }

  @Test
  void expiredClient_getsCertificateExpiredAlert45_andTheReasonIsLogged() throws Exception {
    Path[] expired = pki.expiredClient();
    String out = sClient(daemon.httpPort(), "-tls1_3", expired[0], expired[1]);
    assertThat(out).as(out).contains("alert number 45");
    assertThat(logs.list).anyMatch(e -> e.getFormattedMessage().contains("refused a client certificate: expired"));
  }

  /** {@code openssl s_client} presenting {@code cert}; stdin stays open (5 s: a loaded machine verifies late) so the alert shows (FACTS.md). */
  private String sClient(int port, String version, Path cert, Path key) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", "(sleep 5) | timeout 20 openssl s_client -connect 127.0.0.1:"
        + port + " " + version + " -CAfile " + pki.ca + " -cert " + cert + " -key " + key + " 2>&1");
    pb.redirectErrorStream(true);
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }
}
