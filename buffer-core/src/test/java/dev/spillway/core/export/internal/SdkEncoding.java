package dev.spillway.core.export.internal;

import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * The test oracle: what the SDK's own OTLP exporters put on the wire for some spans (their
 * marshaler is internal API, fine for a test and never used by main code), and a canonical form to
 * compare requests span by span.
 */
public final class SdkEncoding {
  private SdkEncoding() {}

  /** The request the SDK's OTLP exporters would send for {@code spans}. */
  public static ExportTraceServiceRequest of(Collection<? extends SpanData> spans) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      TraceRequestMarshaler.create(new ArrayList<>(spans)).writeBinaryTo(out);
      return ExportTraceServiceRequest.parseFrom(out.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * One {@code ResourceSpans} per span, holding that span alone with its resource, scope and both
   * schema urls: the unit two requests are compared in, whatever their grouping.
   */
  public static List<ResourceSpans> perSpan(ExportTraceServiceRequest request) {
    List<ResourceSpans> out = new ArrayList<>();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span span : ss.getSpansList()) {
          out.add(
              rs.toBuilder()
                  .clearScopeSpans()
                  .addScopeSpans(ss.toBuilder().clearSpans().addSpans(span))
                  .build());
        }
      }
    }
    return out;
  }

  /** {@link #perSpan}, sorted by trace id then span id (spans of a test have distinct ids). */
  public static List<ResourceSpans> perSpanSorted(ExportTraceServiceRequest request) {
    List<ResourceSpans> out = perSpan(request);
    out.sort(Comparator.comparing(SdkEncoding::key));
    return out;
  }

  private static String key(ResourceSpans rs) {
    Span s = rs.getScopeSpans(0).getSpans(0);
    return java.util.HexFormat.of().formatHex(s.getTraceId().toByteArray())
        + java.util.HexFormat.of().formatHex(s.getSpanId().toByteArray());
  }
}
