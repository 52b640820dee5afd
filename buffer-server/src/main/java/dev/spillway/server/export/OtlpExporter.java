package dev.spillway.server.export;

import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.telemetry.ServerMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * Sends one serialized {@code ExportTraceServiceRequest} downstream, one attempt per call; the
 * drain loop owns retries. Implementations are called from one thread.
 */
public interface TraceExporter extends AutoCloseable {
  ExportResult export(byte[] request);

  @Override
  void close();

  /** As {@link #create(ServerConfig.Exporter, ServerMetrics)}, counting into metrics nobody reads. */
  static TraceExporter create(ServerConfig.Exporter config) throws IOException {
    return create(config, new ServerMetrics());
  }

  /**
   * The exporter the configuration names (the debug one when no downstream is configured). An
   * OTLP exporter splits batches over the configured request size or refused as too large, and
   * counts single spans dropped as too large in {@code metrics}.
   */
  static TraceExporter create(ServerConfig.Exporter config, ServerMetrics metrics) throws IOException {
    if (config.otlp().isEmpty()) {
      return new DebugExporter();
    }
    ServerConfig.Otlp o = config.otlp().get();
    return new SplittingExporter(transport(o), o.maxRequestSpans(), o.maxRequestBytes(), metrics);
  }

  private static TraceExporter transport(ServerConfig.Otlp o) throws IOException {
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
