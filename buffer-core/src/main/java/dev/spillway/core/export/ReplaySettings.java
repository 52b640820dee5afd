package dev.spillway.core.export;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The settings the three spilling exporter builders share: how the drain replays to the delegate
 * and how long shutdown keeps replaying. Setters validate at once, throwing {@link
 * IllegalArgumentException} naming the setting. Not thread-safe; copied by the exporter at build.
 */
final class ReplaySettings {
  static final long DEFAULT_EXPORT_TIMEOUT_MILLIS = 10_000;
  static final long DEFAULT_REPLAY_BACKOFF_INITIAL_MILLIS = 1_000;
  static final long DEFAULT_REPLAY_BACKOFF_MAX_MILLIS = 30_000;
  static final long DEFAULT_SHUTDOWN_DRAIN_TIMEOUT_MILLIS = 5_000;

  Duration exportTimeout = Duration.ofMillis(DEFAULT_EXPORT_TIMEOUT_MILLIS);
  Duration backoffInitial = Duration.ofMillis(DEFAULT_REPLAY_BACKOFF_INITIAL_MILLIS);
  Duration backoffMax = Duration.ofMillis(DEFAULT_REPLAY_BACKOFF_MAX_MILLIS);
  Duration shutdownDrainTimeout = Duration.ofMillis(DEFAULT_SHUTDOWN_DRAIN_TIMEOUT_MILLIS);
  /** Closed after the buffer at shutdown (a KMS client an autoconfigure provider made). */
  final List<AutoCloseable> closeAfterBuffer = new ArrayList<>();

  void exportTimeout(Duration timeout) {
    this.exportTimeout = positive(timeout, "exportTimeout");
  }

  void replayBackoff(Duration initial, Duration max) {
    positive(initial, "replayBackoff initial");
    positive(max, "replayBackoff max");
    if (initial.compareTo(max) > 0) {
      throw new IllegalArgumentException("replayBackoff initial " + initial + " exceeds max " + max);
    }
    this.backoffInitial = initial;
    this.backoffMax = max;
  }

  void shutdownDrainTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "shutdownDrainTimeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("shutdownDrainTimeout must be >= 0, got " + timeout);
    }
    this.shutdownDrainTimeout = timeout;
  }

  void closeAfterBuffer(AutoCloseable resource) {
    closeAfterBuffer.add(Objects.requireNonNull(resource, "resource"));
  }

  private static Duration positive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, got " + d);
    }
    return d;
  }
}
