package dev.spillway.server;

import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.tls.DevCertificates;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The embedded default for {@code serve} without {@code --config}: development certificates and a
 * local key pair generated into a state directory on first run, both receivers on loopback with
 * mTLS, the debug exporter. Nothing here is plaintext; the certificates are for one machine.
 */
final class QuickStart {
  static final int GRPC_PORT = 4317;
  static final int HTTP_PORT = 4318;
  static final int METRICS_PORT = 8888;

  /** The quick start's loopback ports ({@code serve --grpc-port/--http-port/--metrics-port}). */
  record Ports(int grpc, int http, int metrics) {
    static final Ports DEFAULT = new Ports(GRPC_PORT, HTTP_PORT, METRICS_PORT);
  }

  private QuickStart() {}

  static Path defaultStateDir() {
    String env = System.getenv("SPILLWAY_STATE_DIR");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    String xdg = System.getenv("XDG_STATE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "state");
    return base.resolve("spillway");
  }

  /**
   * Creates what is missing and returns the YAML of the embedded configuration. Says what it does
   * as it goes: a first start takes a few seconds and should not be silent.
   */
  static String prepare(Path state, Ports ports, PrintStream out) throws IOException {
    Path certs = state.resolve("certs");
    Path keys = state.resolve("keys");
    out.println("spillway quick start: state directory " + state);
    if (!Files.exists(certs.resolve(DevCertificates.SERVER_CERT))) {
      out.println("  generating development certificates ...");
      out.flush();
      DevCertificates.write(certs, Duration.ofDays(365));
      out.println("  generated development certificates in " + certs);
    } else {
      out.println("  using the development certificates in " + certs);
    }
    if (!Files.exists(keys.resolve(LocalKeys.WRITER_FILE))) {
      out.println("  generating a local key pair ...");
      out.flush();
      LocalKeys.init(keys);
      out.println("  generated a local key pair in " + keys);
    } else {
      out.println("  using the local key pair in " + keys);
    }
    out.println("  starting: OTLP/gRPC 127.0.0.1:" + ports.grpc() + ", OTLP/HTTP 127.0.0.1:" + ports.http()
        + ", metrics 127.0.0.1:" + ports.metrics() + " (opening the spill and binding the ports ...)");
    out.flush();
    String tls = "        tls:\n"
        + "          cert_file: " + certs.resolve("server.crt") + "\n"
        + "          key_file: " + certs.resolve("server.key") + "\n"
        + "          client_ca_file: " + certs.resolve("ca.crt") + "\n";
    return "receivers:\n  otlp:\n    protocols:\n"
        + "      grpc:\n        endpoint: 127.0.0.1:" + ports.grpc() + "\n" + tls
        + "      http:\n        endpoint: 127.0.0.1:" + ports.http() + "\n" + tls
        + "buffer:\n  durability: memory-first\n  memory:\n    limit_mib: 64\n"
        + "  spill:\n    directory: " + state.resolve("spill") + "\n    max_disk_mib: 1024\n"
        + "    keys:\n      provider: local\n"
        + "      writer_keyset: " + keys.resolve(LocalKeys.WRITER_FILE) + "\n"
        + "      reader_keyset: " + keys.resolve(LocalKeys.READER_FILE) + "\n"
        + "exporters:\n  debug: {}\n"
        + "telemetry:\n  metrics:\n    endpoint: 127.0.0.1:" + ports.metrics() + "\n";
  }

  static void printEnvironment(Path state, Ports ports, PrintStream out) {
    Path certs = state.resolve("certs");
    out.println();
    out.println("Ready. Point an OpenTelemetry SDK at it (gRPC on " + ports.grpc() + "; for http/protobuf use port "
        + ports.http() + " and OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf):");
    out.println("  export OTEL_EXPORTER_OTLP_ENDPOINT=https://127.0.0.1:" + ports.grpc());
    out.println("  export OTEL_EXPORTER_OTLP_PROTOCOL=grpc");
    out.println("  export OTEL_EXPORTER_OTLP_CERTIFICATE=" + certs.resolve("ca.crt"));
    out.println("  export OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=" + certs.resolve("client.crt"));
    out.println("  export OTEL_EXPORTER_OTLP_CLIENT_KEY=" + certs.resolve("client.key"));
    out.println("  export OTEL_EXPORTER_OTLP_INSECURE=false");
    out.println();
    out.flush();
  }
}
