package dev.spillway.server.export;

import dev.spillway.core.seal.PayloadType;
import dev.spillway.server.receive.OtlpWire;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Counting and cutting serialized {@code ExportTraceServiceRequest}s for the exporter. Counting
 * walks the wire format without building objects; cutting decodes, and is used only when a request
 * is over the configured size or the downstream refused it as too large. Each piece keeps its
 * spans' resource and scope (with their schema URLs), in the original order.
 */
final class TraceRequests {
  /** Bytes a resource or scope wrapper adds besides its content: tag and length, generously. */
  private static final int WRAPPER_OVERHEAD = 12;

  private TraceRequests() {}

  /** Spans in a serialized request, without decoding them ({@link OtlpWire}); -1 if it is not a valid request. */
  static long countSpans(byte[] request) {
    try {
      return OtlpWire.count(PayloadType.OTLP_TRACES, request);
    } catch (OtlpWire.Refused e) {
      return -1;
    }
  }

  /** One span with where it came from. */
  record Item(ResourceSpans resource, ScopeSpans scope, Span span) {}

  /** The request's spans in order, each with its (span-less) resource and scope. */
  static List<Item> items(ExportTraceServiceRequest request) {
    List<Item> out = new ArrayList<>();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      ResourceSpans resource = rs.toBuilder().clearScopeSpans().build();
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        ScopeSpans scope = ss.toBuilder().clearSpans().build();
        for (Span s : ss.getSpansList()) {
          out.add(new Item(resource, scope, s));
        }
      }
    }
    return out;
  }

  /**
   * Cuts {@code items} into consecutive pieces of at most {@code maxSpans} spans (0: no limit)
   * whose requests are at most about {@code maxBytes} (0: no limit; the estimate counts each
   * resource and scope wrapper once per piece). A single span larger than {@code maxBytes} is a
   * piece of its own.
   */
  static List<List<Item>> cut(List<Item> items, long maxSpans, long maxBytes) {
    List<List<Item>> pieces = new ArrayList<>();
    List<Item> current = new ArrayList<>();
    long bytes = 0;
    ResourceSpans lastResource = null;
    ScopeSpans lastScope = null;
    for (Item it : items) {
      long add = it.span().getSerializedSize() + WRAPPER_OVERHEAD;
      if (it.resource() != lastResource) {
        add += it.resource().getSerializedSize() + it.scope().getSerializedSize() + 2 * WRAPPER_OVERHEAD;
      } else if (it.scope() != lastScope) {
        add += it.scope().getSerializedSize() + WRAPPER_OVERHEAD;
      }
      boolean full = (maxSpans > 0 && current.size() >= maxSpans) || (maxBytes > 0 && bytes + add > maxBytes);
      if (full && !current.isEmpty()) {
        pieces.add(current);
        current = new ArrayList<>();
        bytes = 0;
        // a new piece repeats the wrappers
        add = it.span().getSerializedSize() + WRAPPER_OVERHEAD + it.resource().getSerializedSize()
            + it.scope().getSerializedSize() + 2 * WRAPPER_OVERHEAD;
      }
      current.add(it);
      bytes += add;
      lastResource = it.resource();
      lastScope = it.scope();
    }
    if (!current.isEmpty()) {
      pieces.add(current);
    }
    return pieces;
  }

  /** Halves {@code items} by span count (the first half is the larger one for an odd count). */
  static List<List<Item>> halve(List<Item> items) {
    int mid = (items.size() + 1) / 2;
    return List.of(items.subList(0, mid), items.subList(mid, items.size()));
  }

  /** The request holding {@code items}, consecutive spans of one resource and scope grouped again. */
  static ExportTraceServiceRequest request(List<Item> items) {
    ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
    ResourceSpans.Builder rb = null;
    ScopeSpans.Builder sb = null;
    ResourceSpans lastResource = null;
    ScopeSpans lastScope = null;
    for (Item it : items) {
      if (it.resource() != lastResource) {
        flush(req, rb, sb);
        rb = it.resource().toBuilder();
        sb = it.scope().toBuilder();
      } else if (it.scope() != lastScope) {
        rb.addScopeSpans(sb);
        sb = it.scope().toBuilder();
      }
      sb.addSpans(it.span());
      lastResource = it.resource();
      lastScope = it.scope();
    }
    flush(req, rb, sb);
    return req.build();
  }

  private static void flush(ExportTraceServiceRequest.Builder req, ResourceSpans.Builder rb, ScopeSpans.Builder sb) {
    if (rb != null) {
      rb.addScopeSpans(sb);
      req.addResourceSpans(rb);
    }
  }
}
