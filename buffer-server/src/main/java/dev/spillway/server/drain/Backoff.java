package dev.spillway.server.drain;

import dev.spillway.server.config.ServerConfig;
import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with ±50% jitter, as the collector's exporterhelper does: the n-th wait is
 * {@code min(initial * 2^n, max)} scaled by a random factor in [0.5, 1.5].
 */
final class Backoff {
  private final ServerConfig.Retry retry;
  private final DoubleSupplier random;
  private Duration interval;

  Backoff(ServerConfig.Retry retry, DoubleSupplier random) {
    this.retry = retry;
    this.random = random;
    this.interval = retry.initialInterval();
  }

  Duration next() {
    double factor = 0.5 + random.getAsDouble();
    long ms = Math.max(1, Math.round(interval.toMillis() * factor));
    Duration doubled = interval.multipliedBy(2);
    interval = doubled.compareTo(retry.maxInterval()) > 0 ? retry.maxInterval() : doubled;
    return Duration.ofMillis(ms);
  }
}
