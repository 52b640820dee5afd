package dev.spillway.server.testing;

import dev.spillway.server.config.ConfigLoader;
import dev.spillway.server.config.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes daemon configurations for tests: ephemeral loopback ports, real certificate files. */
public final class TestConfigs {
  private TestConfigs() {}

  public static String tls(TestPki pki, String indent) {
    return indent + "tls:\n"
        + indent + "  cert_file: " + pki.serverCert + "\n"
        + indent + "  key_file: " + pki.serverKey + "\n"
        + indent + "  client_ca_file: " + pki.ca + "\n"
        + indent + "  reload_interval: 100ms\n";
  }

  /** Both receivers with mTLS, a spill directory and keys, {@code exporter} YAML (may be ""). */
  public static String daemon(TestPki pki, Path spillDir, Path keysDir, String exporter, long maxRequestBytes) {
    return daemon(pki, spillDir, localKeys(keysDir.resolve("writer.json"), keysDir.resolve("reader.json")),
        exporter, maxRequestBytes);
  }

  /** The {@code keys:} block (6-space indent) for the local provider; either path may be null. */
  public static String localKeys(Path writer, Path reader) {
    return "    keys:\n"
        + "      provider: local\n"
        + (writer == null ? "" : "      writer_keyset: " + writer + "\n")
        + (reader == null ? "" : "      reader_keyset: " + reader + "\n");
  }

  /** As above with a ready-made {@code keys:} block. */
  public static String daemon(TestPki pki, Path spillDir, String keysBlock, String exporter, long maxRequestBytes) {
    return "receivers:\n"
        + "  otlp:\n"
        + "    protocols:\n"
        + "      grpc:\n"
        + "        endpoint: 127.0.0.1:0\n"
        + "        max_recv_msg_size_mib: " + Math.max(1, maxRequestBytes >> 20) + "\n"
        + tls(pki, "        ")
        + "      http:\n"
        + "        endpoint: 127.0.0.1:0\n"
        + "        max_request_body_size: " + maxRequestBytes + "\n"
        + tls(pki, "        ")
        + "buffer:\n"
        + "  memory:\n"
        + "    limit_mib: 8\n"
        + "  spill:\n"
        + "    directory: " + spillDir + "\n"
        + "    max_disk_mib: 64\n"
        + keysBlock
        + exporter
        + "telemetry:\n"
        + "  metrics:\n"
        + "    endpoint: 127.0.0.1:0\n";
  }

  /** An OTLP exporter ({@code grpc} or {@code http/protobuf}) to 127.0.0.1:port with mTLS and a fast retry. */
  public static String exporter(TestPki pki, String protocol, int port) {
    return "exporters:\n  otlp:\n    endpoint: https://127.0.0.1:" + port + "\n"
        + "    protocol: " + protocol + "\n"
        + "    tls:\n      ca_file: " + pki.ca + "\n      cert_file: " + pki.clientCert + "\n"
        + "      key_file: " + pki.clientKey + "\n"
        + "    retry_on_failure:\n      initial_interval: 50ms\n      max_interval: 200ms\n"
        + "      max_elapsed_time: 1s\n";
  }

  public static ServerConfig load(Path dir, String yaml) throws Exception {
    Path f = dir.resolve("spillway.yaml");
    Files.writeString(f, yaml);
    return new ConfigLoader(name -> null, false).load(f);
  }
}
