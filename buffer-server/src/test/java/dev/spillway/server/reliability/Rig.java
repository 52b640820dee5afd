package dev.spillway.server.reliability;

import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One daemon's surroundings on disk and on loopback: certificates, keys, spill directory, fixed
 * ephemeral ports (chosen once, so a restarted daemon listens where the client and the downstream
 * expect it), and the YAML.
 */
final class Rig {
  final Path dir;
  final TestPki pki;
  final Path keys;
  Path spill;
  final int grpcPort = freePort();
  final int httpPort = freePort();
  final int metricsPort = freePort();
  final int downstreamPort = freePort();
  String durability = "durable";
  int memoryLimitMib = 8;
  int maxDiskMib = 256;
  String fsync = "none";
  long maxRequestBytes = 4 << 20;
  String retry = "initial_interval: 50ms, max_interval: 200ms, max_elapsed_time: 1s";

  Rig(Path dir) throws IOException {
    this.dir = dir;
    this.pki = new TestPki(dir.resolve("pki"));
    this.keys = dir.resolve("keys");
    LocalKeys.init(keys);
    this.spill = dir.resolve("spill");
  }

  String yaml() {
    String tls = TestConfigs.tls(pki, "        ");
    return "receivers:\n"
        + "  otlp:\n"
        + "    protocols:\n"
        + "      grpc:\n"
        + "        endpoint: 127.0.0.1:" + grpcPort + "\n"
        + "        max_recv_msg_size_mib: " + Math.max(1, maxRequestBytes >> 20) + "\n"
        + tls
        + "      http:\n"
        + "        endpoint: 127.0.0.1:" + httpPort + "\n"
        + "        max_request_body_size: " + maxRequestBytes + "\n"
        + tls
        + "buffer:\n"
        + "  durability: " + durability + "\n"
        + "  memory:\n"
        + "    limit_mib: " + memoryLimitMib + "\n"
        + "  spill:\n"
        + "    directory: " + spill + "\n"
        + "    max_disk_mib: " + maxDiskMib + "\n"
        + "    fsync: " + fsync + "\n"
        + "    keys:\n"
        + "      provider: local\n"
        + "      writer_keyset: " + keys.resolve("writer.json") + "\n"
        + "      reader_keyset: " + keys.resolve("reader.json") + "\n"
        + "exporters:\n"
        + "  otlp:\n"
        + "    endpoint: https://127.0.0.1:" + downstreamPort + "\n"
        + "    timeout: 5s\n"
        + "    tls:\n"
        + "      ca_file: " + pki.ca + "\n"
        + "      cert_file: " + pki.clientCert + "\n"
        + "      key_file: " + pki.clientKey + "\n"
        + "    retry_on_failure: {" + retry + "}\n"
        + "telemetry:\n"
        + "  metrics:\n"
        + "    endpoint: 127.0.0.1:" + metricsPort + "\n";
  }

  Path writeConfig() throws IOException {
    Path f = dir.resolve("spillway.yaml");
    Files.writeString(f, yaml());
    return f;
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
