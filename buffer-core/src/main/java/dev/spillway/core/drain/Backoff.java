package dev.spillway.core.drain;

import java.util.function.DoubleSupplier;

/**
 * Exponential back-off with ±50 % jitter, as the collector's exporterhelper: the n-th wait is
 * {@code min(initial * 2^n, max)} scaled by a random factor in [0.5, 1.5]. Not thread-safe: one per
 * drain thread.
 */
final class Backoff {
  private final RetryPolicy policy;
  private final DoubleSupplier random;
  private long intervalNanos;

  Backoff(RetryPolicy policy, DoubleSupplier random) {
    this.policy = policy;
    this.random = random;
    reset();
  }

  /** The next wait, in nanoseconds (at least one millisecond). */
  long nextNanos() {
    double factor = 0.5 + random.getAsDouble();
    long wait = Math.max(1_000_000L, Math.round(intervalNanos * factor));
    intervalNanos = Math.min(policy.maxInterval().toNanos(), intervalNanos * 2);
    return wait;
  }

  void reset() {
    intervalNanos = policy.initialInterval().toNanos();
  }
}
