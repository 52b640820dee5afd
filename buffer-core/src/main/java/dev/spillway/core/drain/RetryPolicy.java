package dev.spillway.core.drain;

import java.time.Duration;
import java.util.Objects;

/**
 * How the {@link Drain} retries a batch the downstream did not take, as the collector's {@code
 * retry_on_failure}: waits start at {@code initialInterval} and double up to {@code maxInterval},
 * each scaled by a random factor in [0.5, 1.5]; a downstream hint (Retry-After, RetryInfo) replaces
 * the computed wait. A batch is retried in hand for at most {@code maxElapsedTime}; then it is
 * released (it stays in the buffer, delivered again first) and the drain waits the next back-off
 * before polling again. The back-off resets on a success. Nothing is ever dropped for failing.
 *
 * @param enabled false: release after the first failure (the back-off still applies)
 * @param maxElapsedTime zero releases a batch after its first failure
 */
public record RetryPolicy(
    boolean enabled, Duration initialInterval, Duration maxInterval, Duration maxElapsedTime) {
  /** The collector's defaults: 5 s, 30 s, 300 s. */
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(true, Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofMinutes(5));

  public RetryPolicy {
    Objects.requireNonNull(initialInterval, "initialInterval");
    Objects.requireNonNull(maxInterval, "maxInterval");
    Objects.requireNonNull(maxElapsedTime, "maxElapsedTime");
    if (initialInterval.isNegative() || initialInterval.isZero()) {
      throw new IllegalArgumentException("initialInterval must be positive, got " + initialInterval);
    }
    if (maxInterval.compareTo(initialInterval) < 0) {
      throw new IllegalArgumentException(
          "maxInterval " + maxInterval + " is shorter than initialInterval " + initialInterval);
    }
    if (maxElapsedTime.isNegative()) {
      throw new IllegalArgumentException("maxElapsedTime must be >= 0, got " + maxElapsedTime);
    }
  }
}
