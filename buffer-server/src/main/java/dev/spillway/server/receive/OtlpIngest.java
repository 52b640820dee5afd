package dev.spillway.server.receive;

import dev.spillway.core.OfferResult;
import dev.spillway.core.SpillWriter;
import dev.spillway.server.telemetry.ServerMetrics;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * Where both receivers hand a validated request of any signal: its protobuf bytes, as the client
 * sent them (or as converted from JSON), and the item count from {@link OtlpWire}'s scan. Offers
 * the bytes to the one buffer all signals share, sealed with the signal's payload type; the one
 * place that turns a refusal into back-pressure. Also says which signals are served ({@code
 * service.pipelines}) and how a request for another one is refused. Thread-safe.
 */
public final class OtlpIngest {
  /** What the client is told to wait before retrying a refused request. */
  public static final Duration RETRY_AFTER = Duration.ofSeconds(2);

  private final SpillWriter writer;
  private final ServerMetrics metrics;
  private final Set<OtlpWire.Signal> served;
  private final String configSource;

  /** Serving all three signals. */
  public OtlpIngest(SpillWriter writer, ServerMetrics metrics) {
    this(writer, metrics, EnumSet.allOf(OtlpWire.Signal.class), "the configuration");
  }

  /**
   * @param served the signals with a pipeline; requests for the others are refused
   * @param configSource the configuration file, named in refusals so an operator knows where to look
   */
  public OtlpIngest(SpillWriter writer, ServerMetrics metrics, Set<OtlpWire.Signal> served, String configSource) {
    this.writer = Objects.requireNonNull(writer, "writer");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.served = served.isEmpty() ? EnumSet.noneOf(OtlpWire.Signal.class) : EnumSet.copyOf(served);
    this.configSource = Objects.requireNonNull(configSource, "configSource");
  }

  /** Whether requests of this signal are taken. */
  public boolean serves(OtlpWire.Signal signal) {
    return served.contains(signal);
  }

  /**
   * The refusal for a signal that is turned off: names the signal and the key that turns it on.
   * Says nothing about the request.
   */
  public String turnedOff(OtlpWire.Signal signal) {
    return signal.label() + " are turned off on this Spillway: add a '" + signal.label()
        + "' pipeline under service.pipelines in " + configSource + " to accept them";
  }

  /**
   * @param signal what the request holds
   * @param serialized the request's protobuf encoding, validated by {@link OtlpWire#scan}
   * @param items the spans, data points or log records it holds, as the scan counted them
   * @return true if the buffer took responsibility; false means back-pressure (retryable)
   */
  public boolean accept(OtlpWire.Signal signal, byte[] serialized, long items) {
    if (items == 0) {
      return true; // nothing to keep; an empty request is a success per the OTLP spec
    }
    ServerMetrics.SignalCounts counts = metrics.signal(signal);
    OfferResult r;
    try {
      // The coalescer takes the count the scan already made (it keeps records within the
      // exporter's item limit); any other writer needs only the bytes.
      r = writer instanceof CoalescingSpillWriter c
          ? c.offer(signal.payloadType(), serialized, items)
          : writer.offer(signal.payloadType(), serialized);
    } catch (RuntimeException e) {
      // Fail closed and retryable: the client keeps the data.
      counts.refused.add(items);
      return false;
    }
    if (!r.accepted()) {
      counts.refused.add(items);
      return false;
    }
    counts.received.add(items);
    if (r.outcome() == OfferResult.Outcome.SPILLED) {
      counts.spilled.add(items);
    }
    return true;
  }
}
