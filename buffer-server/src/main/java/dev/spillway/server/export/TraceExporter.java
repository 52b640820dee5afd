package dev.spillway.server.export;

import dev.spillway.server.config.ServerConfig;
import java.io.IOException;

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
    return o.protocol() == ServerConfig.Protocol.GRPC ? GrpcExporter.create(o) : HttpExporter.create(o);
  }
}
