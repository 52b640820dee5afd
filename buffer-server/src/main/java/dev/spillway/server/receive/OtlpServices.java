package dev.spillway.server.receive;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.util.EnumMap;
import java.util.Map;

/**
 * Where each OTLP signal is served and what its answers look like: the gRPC service and its
 * {@code Export} method (requests and responses as bytes, as the daemon stores and forwards them),
 * the HTTP path, the empty response, and the partial-success count in a downstream's response.
 * One table for the receivers and the exporters, so the three signals cannot drift apart.
 */
public final class OtlpServices {
  private static final Map<OtlpWire.Signal, MethodDescriptor<byte[], byte[]>> EXPORT = new EnumMap<>(OtlpWire.Signal.class);

  static {
    EXPORT.put(OtlpWire.Signal.TRACES, bytes(TraceServiceGrpc.getExportMethod()));
    EXPORT.put(OtlpWire.Signal.METRICS, bytes(MetricsServiceGrpc.getExportMethod()));
    EXPORT.put(OtlpWire.Signal.LOGS, bytes(LogsServiceGrpc.getExportMethod()));
  }

  private OtlpServices() {}

  private static MethodDescriptor<byte[], byte[]> bytes(MethodDescriptor<?, ?> generated) {
    return generated.toBuilder(ByteMarshaller.INSTANCE, ByteMarshaller.INSTANCE).build();
  }

  /** {@code opentelemetry.proto.collector.<signal>.v1.<Signal>Service}. */
  public static String grpcService(OtlpWire.Signal signal) {
    return export(signal).getServiceName();
  }

  /** The signal's {@code Export} method with byte-array request and response. */
  public static MethodDescriptor<byte[], byte[]> export(OtlpWire.Signal signal) {
    return EXPORT.get(signal);
  }

  /** {@code /v1/traces}, {@code /v1/metrics}, {@code /v1/logs}. */
  public static String httpPath(OtlpWire.Signal signal) {
    return "/v1/" + signal.label();
  }

  /** The signal whose HTTP path this is, or null. */
  public static OtlpWire.Signal ofHttpPath(String path) {
    for (OtlpWire.Signal s : OtlpWire.Signal.values()) {
      if (httpPath(s).equals(path)) {
        return s;
      }
    }
    return null;
  }

  /** The full success response (no partial success), for JSON rendering. */
  public static Message emptyResponse(OtlpWire.Signal signal) {
    return switch (signal) {
      case TRACES -> ExportTraceServiceResponse.getDefaultInstance();
      case METRICS -> ExportMetricsServiceResponse.getDefaultInstance();
      case LOGS -> ExportLogsServiceResponse.getDefaultInstance();
    };
  }

  /**
   * The items a downstream's response says it rejected ({@code rejected_spans}, {@code
   * rejected_data_points}, {@code rejected_log_records}); 0 when there is no partial success.
   *
   * @throws InvalidProtocolBufferException when the bytes are not a response of the signal
   */
  public static long rejected(OtlpWire.Signal signal, byte[] response) throws InvalidProtocolBufferException {
    return switch (signal) {
      case TRACES -> ExportTraceServiceResponse.parseFrom(response).getPartialSuccess().getRejectedSpans();
      case METRICS -> ExportMetricsServiceResponse.parseFrom(response).getPartialSuccess().getRejectedDataPoints();
      case LOGS -> ExportLogsServiceResponse.parseFrom(response).getPartialSuccess().getRejectedLogRecords();
    };
  }
}
