package dev.spillway.core.drain;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What one export attempt came to, as the {@link Drain} acts on it.
 *
 * @param kind what to do with the batch
 * @param retryAfter the downstream's throttling hint (HTTP Retry-After, gRPC RetryInfo), if any
 * @param reason short and safe for logs (a status and the downstream's message, never payload)
 */
public record ExportOutcome(Kind kind, Optional<Duration> retryAfter, String reason) {
  /** What the drain does with the batch. */
  public enum Kind {
    /** Delivered (fully or partially): acknowledge it. */
    SUCCESS,
    /** Down, throttling or overloaded: keep the batch and try again after a back-off. */
    RETRYABLE,
    /** The data itself is refused (HTTP 400, INVALID_ARGUMENT): acknowledged, never retried. */
    PERMANENT
  }

  private static final ExportOutcome SUCCESS = new ExportOutcome(Kind.SUCCESS, Optional.empty(), "");

  public ExportOutcome {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(retryAfter, "retryAfter");
    Objects.requireNonNull(reason, "reason");
  }

  public static ExportOutcome success() {
    return SUCCESS;
  }

  public static ExportOutcome retryable(String reason) {
    return new ExportOutcome(Kind.RETRYABLE, Optional.empty(), reason);
  }

  public static ExportOutcome retryable(String reason, Optional<Duration> retryAfter) {
    return new ExportOutcome(Kind.RETRYABLE, retryAfter, reason);
  }

  public static ExportOutcome permanent(String reason) {
    return new ExportOutcome(Kind.PERMANENT, Optional.empty(), reason);
  }
}
