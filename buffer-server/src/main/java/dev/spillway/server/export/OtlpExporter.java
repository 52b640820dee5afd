package dev.spillway.server.export;

import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.receive.OtlpWire;
import dev.spillway.server.telemetry.ServerMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * Sends one serialized OTLP export request downstream to its signal's service ({@code
 * TraceService}, {@code MetricsService}, {@code LogsService}; {@code /v1/traces}, {@code
 * /v1/metrics}, {@code /v1/logs}), one attempt per call; the drain loop owns retries.
 * Implementations are called from one thread.
 */
public interface OtlpExporter extends AutoCloseable {
  /**
   * @param signal what the request holds, as sealed with the batch
   * @param request a serialized {@code Export<Signal>ServiceRequest}
   */
  ExportResult export(OtlpWire.Signal signal, byte[] request);

  @Override
  void close();

  /** As {@link #create(ServerConfig.Exporter, ServerMetrics)}, counting into metrics nobody reads. */
  static OtlpExporter create(ServerConfig.Exporter config) throws IOException {
    return create(config, new ServerMetrics());
  }

  /**
   * The exporter the configuration names (the debug one when no downstream is configured). An
   * OTLP exporter splits batches over the configured request size or refused as too large, and
   * counts single items dropped as too large in {@code metrics}.
   */
  static OtlpExporter create(ServerConfig.Exporter config, ServerMetrics metrics) throws IOException {
    if (config.otlp().isEmpty()) {
      return new DebugExporter();
    }
    ServerConfig.Otlp o = config.otlp().get();
    return new SplittingExporter(transport(o), o.maxRequestSpans(), o.maxRequestBytes(), metrics);
  }

  private static OtlpExporter transport(ServerConfig.Otlp o) throws IOException {
    ReloadingExporter.Factory factory =
        () -> o.protocol() == ServerConfig.Protocol.GRPC ? GrpcExporter.create(o) : HttpExporter.create(o);
    List<Path> tlsFiles = new ArrayList<>();
    o.tls().caFile().ifPresent(tlsFiles::add);
    o.tls().certFile().ifPresent(tlsFiles::add);
    o.tls().keyFile().ifPresent(tlsFiles::add);
    if (tlsFiles.isEmpty()) {
      return factory.create();
    }
    return new ReloadingExporter(factory, tlsFiles, ReloadingExporter.CHECK_INTERVAL, Clock.systemUTC());
  }
}
