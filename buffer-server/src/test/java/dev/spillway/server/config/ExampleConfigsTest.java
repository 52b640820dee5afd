package dev.spillway.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped split-deployment configurations (ops/examples/spillway-ingest.yaml and
 * spillway-drain.yaml) load, with their /etc paths pointed at real files: each holds only its
 * own key half, and both share the spill directory's group.
 */
class ExampleConfigsTest {
  static final Path EXAMPLES = Path.of("..", "ops", "examples");

  @TempDir Path dir;

  private TestPki pki;

  private ServerConfig load(String name) throws Exception {
    if (pki == null) {
      pki = new TestPki(dir.resolve("pki"));
      Files.writeString(dir.resolve("writer.json"), "{}");
      Files.writeString(dir.resolve("reader.json"), "{}");
    }
    String yaml = Files.readString(EXAMPLES.resolve(name))
        .replace("/etc/spillway/tls/server.crt", pki.serverCert.toString())
        .replace("/etc/spillway/tls/server.key", pki.serverKey.toString())
        .replace("/etc/spillway/tls/client-ca.crt", pki.ca.toString())
        .replace("/etc/spillway/tls/downstream-ca.crt", pki.ca.toString())
        .replace("/etc/spillway/tls/client.crt", pki.clientCert.toString())
        .replace("/etc/spillway/tls/client.key", pki.clientKey.toString())
        .replace("/etc/spillway/keys/", dir + "/");
    Path f = dir.resolve(name);
    Files.writeString(f, yaml);
    return new ConfigLoader(n -> null, false).load(f);
  }

  @Test
  void ingestExample_loads_writerKeyOnlyWithReceiversAndSharedGroup() throws Exception {
    ServerConfig c = load("spillway-ingest.yaml");
    assertThat(c.grpc()).isPresent();
    assertThat(c.http()).isPresent();
    assertThat(c.buffer().sharedGroup()).isTrue();
    assertThat(c.buffer().keys().holdsReaderKeyMaterial()).isFalse();
    assertThat(c.buffer().keys().writerKeyset()).isPresent();
  }

  @Test
  void drainExample_loads_readerKeyOnlyNoReceiversSameDirectory() throws Exception {
    ServerConfig c = load("spillway-drain.yaml");
    assertThat(c.grpc()).isEmpty();
    assertThat(c.http()).isEmpty();
    assertThat(c.buffer().sharedGroup()).isTrue();
    assertThat(c.buffer().keys().writerKeyset()).isEmpty();
    assertThat(c.buffer().keys().readerKeyset()).isPresent();
    assertThat(c.exporter().otlp().orElseThrow().protocol()).isEqualTo(ServerConfig.Protocol.GRPC);
    assertThat(c.buffer().directory()).isEqualTo(load("spillway-ingest.yaml").buffer().directory());
    assertThat(c.metrics().endpoint().port()).isNotEqualTo(load("spillway-ingest.yaml").metrics().endpoint().port());
  }
}
