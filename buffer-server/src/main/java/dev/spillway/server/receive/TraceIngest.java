package dev.spillway.server.receive;

import dev.spillway.core.OfferResult;
import dev.spillway.core.SpillWriter;
import dev.spillway.core.seal.PayloadType;
import dev.spillway.server.telemetry.ServerMetrics;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.time.Duration;
import java.util.Objects;

/**
 * Where both receivers hand a validated request: its protobuf bytes, as the client sent them (or
 * as converted from JSON), and the span count from {@link OtlpWire}'s scan. Offers the bytes to
 * the buffer; the one place that turns a refusal into back-pressure. Thread-safe.
 */
public final class TraceIngest {
  /** What the client is told to wait before retrying a refused request. */
  public static final Duration RETRY_AFTER = Duration.ofSeconds(2);

  private final SpillWriter writer;
  private final ServerMetrics metrics;

  public TraceIngest(SpillWriter writer, ServerMetrics metrics) {
    this.writer = Objects.requireNonNull(writer, "writer");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
  }

  /**
   * @param serialized the request's protobuf encoding, validated by {@link OtlpWire#scan}
   * @param spans the spans it holds, as the scan counted them
   * @return true if the buffer took responsibility; false means back-pressure (retryable)
   */
  public boolean accept(byte[] serialized, long spans) {
    if (spans == 0) {
      return true; // nothing to keep; an empty request is a success per the OTLP spec
    }
    OfferResult r;
    try {
      r = writer.offer(PayloadType.OTLP_TRACES, serialized);
    } catch (RuntimeException e) {
      // Fail closed and retryable: the client keeps the data.
      metrics.spansRefused.add(spans);
      return false;
    }
    if (!r.accepted()) {
      metrics.spansRefused.add(spans);
      return false;
    }
    metrics.spansReceived.add(spans);
    if (r.outcome() == OfferResult.Outcome.SPILLED) {
      metrics.spansSpilled.add(spans);
    }
    return true;
  }

  /** The spans of a parsed request. The receivers count with {@link OtlpWire} instead. */
  public static long spanCount(ExportTraceServiceRequest request) {
    long n = 0;
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        n += ss.getSpansCount();
      }
    }
    return n;
  }
}
