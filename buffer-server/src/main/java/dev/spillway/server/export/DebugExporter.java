package dev.spillway.server.export;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.spillway.server.receive.OtlpWire;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs what drains: span counts, and per span its trace id, span id and name. Never attribute
 * values, events, links' attributes, or resource attributes: those are where secrets live. At most
 * {@value #MAX_SPANS_LOGGED} spans per batch are listed.
 */
public final class DebugExporter implements OtlpExporter {
  static final int MAX_SPANS_LOGGED = 50;
  private static final Logger LOG = LoggerFactory.getLogger("spillway.debug-exporter");
  private static final HexFormat HEX = HexFormat.of();

  @Override
  public ExportResult export(OtlpWire.Signal signal, byte[] bytes) {
    if (signal != OtlpWire.Signal.TRACES) {
      // Metric and log records carry values, bodies and attributes: only counted, never listed.
      long items = OtlpRequests.count(signal, bytes);
      if (items < 0) {
        return ExportResult.permanent("the batch is not a valid " + signal.label() + " export request");
      }
      LOG.info("batch: {} {}", items, signal.items());
      return ExportResult.success(0);
    }
    ExportTraceServiceRequest request;
    try {
      request = ExportTraceServiceRequest.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      return ExportResult.permanent("the batch is not a valid ExportTraceServiceRequest");
    }
    long spans = 0;
    StringBuilder sb = new StringBuilder();
    int listed = 0;
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          spans++;
          if (listed++ < MAX_SPANS_LOGGED) {
            sb.append("\n  trace_id=").append(HEX.formatHex(s.getTraceId().toByteArray()))
                .append(" span_id=").append(HEX.formatHex(s.getSpanId().toByteArray()))
                .append(" name=").append(printable(s.getName()));
          }
        }
      }
    }
    LOG.info("batch: {} resource spans, {} spans{}{}", request.getResourceSpansCount(), spans, sb,
        listed > MAX_SPANS_LOGGED ? "\n  ... " + (listed - MAX_SPANS_LOGGED) + " more" : "");
    return ExportResult.success(0);
  }

  /** Span names are logged, but without control characters that could forge log lines. */
  private static String printable(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), 200));
    for (int i = 0; i < s.length() && i < 200; i++) {
      char c = s.charAt(i);
      b.append(Character.isISOControl(c) ? '?' : c);
    }
    return b.toString();
  }

  @Override
  public void close() {}
}
