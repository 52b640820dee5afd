package dev.spillway.server.export;

import java.time.Duration;
import java.util.Optional;

/**
 * The outcome of one export attempt.
 *
 * @param rejectedItems for {@link Kind#SUCCESS}, items (spans, data points, log records) the downstream refused in a partial success
 *     (not retried, counted)
 * @param retryAfter the downstream's throttling hint (Retry-After, RetryInfo), if it gave one
 * @param reason short, safe for logs: a status code and the downstream's message, never payload
 */
public record ExportResult(Kind kind, long rejectedItems, Optional<Duration> retryAfter, String reason) {
  /** What to do with the batch. */
  public enum Kind {
    /** Delivered (fully or partially): acknowledge it. */
    SUCCESS,
    /** The downstream is down, throttling or overloaded: try again later, keep the batch. */
    RETRYABLE,
    /** The downstream says the data itself is bad (400 / INVALID_ARGUMENT): retrying cannot help. */
    PERMANENT,
    /**
     * The downstream refused the request as too large (HTTP 413, gRPC RESOURCE_EXHAUSTED about a
     * message size): sent as it is it can never succeed, but smaller requests can. Only the
     * transports return it; {@link SplittingExporter} turns it into split requests, so the drain
     * loop never sees it.
     */
    TOO_LARGE
  }

  public static ExportResult success(long rejectedItems) {
    return new ExportResult(Kind.SUCCESS, rejectedItems, Optional.empty(), "");
  }

  public static ExportResult retryable(String reason, Optional<Duration> retryAfter) {
    return new ExportResult(Kind.RETRYABLE, 0, retryAfter, reason);
  }

  public static ExportResult tooLarge(String reason) {
    return new ExportResult(Kind.TOO_LARGE, 0, Optional.empty(), reason);
  }

  public static ExportResult permanent(String reason) {
    return new ExportResult(Kind.PERMANENT, 0, Optional.empty(), reason);
  }
}
