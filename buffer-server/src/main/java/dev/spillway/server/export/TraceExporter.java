package dev.spillway.server.export;

import dev.spillway.server.config.ServerConfig;
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

  /** The exporter the configuration names (the debug one when no downstream is configured). */
  static TraceExporter create(ServerConfig.Exporter config) throws IOException {
    if (config.otlp().isEmpty()) {
      return new DebugExporter();
    }
    ServerConfig.Otlp o = config.otlp().get();
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
