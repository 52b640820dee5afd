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
 * Where both receivers hand a decoded request: counts its spans and offers the serialized request
 * to the buffer. The one place that turns a refusal into back-pressure. Thread-safe.
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
   * @param request the parsed request (only counted)
   * @param serialized its protobuf encoding, as offered to the buffer
   * @return true if the buffer took responsibility; false means back-pressure (retryable)
   */
  public boolean accept(ExportTraceServiceRequest request, byte[] serialized) {
    long spans = spanCount(request);
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
