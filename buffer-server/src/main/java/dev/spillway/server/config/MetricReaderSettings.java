package dev.spillway.server.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * One entry of {@code telemetry.metrics.readers}: a periodic reader that pushes the daemon's own
 * metrics over OTLP, spelled as the OpenTelemetry Collector 0.165 spells its
 * {@code service.telemetry.metrics.readers[].periodic.exporter.otlp} (configuration schema v0.3).
 *
 * @param interval time between two pushes ({@code periodic.interval})
 * @param timeout how long one collection and push may take ({@code periodic.timeout})
 * @param endpoint {@code https://host:port} for gRPC; the full {@code …/v1/metrics} URL for
 *     http/protobuf; {@code http://} only in the insecure development mode, on loopback
 * @param certificate the CA file that signed the endpoint's certificate; empty: the JVM's trust store
 * @param clientCertificate with {@code clientKey}: the client certificate for mTLS
 * @param exportTimeout one OTLP request ({@code exporter.otlp.timeout})
 */
public record MetricReaderSettings(
    Duration interval,
    Duration timeout,
    ServerConfig.Protocol protocol,
    URI endpoint,
    Optional<Path> certificate,
    Optional<Path> clientCertificate,
    Optional<Path> clientKey,
    Map<String, String> headers,
    boolean gzip,
    Duration exportTimeout) {

  /** The collector's defaults (OpenTelemetry SDK configuration): push every 60 s, 30 s to do it. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(60);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
  public static final Duration DEFAULT_EXPORT_TIMEOUT = Duration.ofSeconds(10);

  /** The {@code headers} values may be credentials: never printed. */
  @Override
  public String toString() {
    return "MetricReaderSettings[" + protocol + " " + endpoint + " every " + interval + ", headers "
        + headers.keySet() + "]";
  }
}
