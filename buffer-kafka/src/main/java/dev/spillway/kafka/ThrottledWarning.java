package dev.spillway.kafka;

import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * One warning line per interval, with how many times it happened, instead of one line per event:
 * a broker outage fails every in-flight send, and one line per record would flood the log with
 * the same words. The first event of a quiet period is logged at once (the operator sees the
 * outage start); later events within the interval are counted and reported by the next line
 * that is due ({@link #event} or {@link #tick}), or by {@link #flush()}.
 *
 * <p>Thread-safe. The line holds only what the caller passes in (an error's class and message,
 * never a payload).
 */
final class ThrottledWarning {
  private final long intervalNanos;
  private final LongSupplier nanoClock;
  private final Consumer<String> sink;

  private long nextDueNanos; // guarded by this
  private boolean loggedOnce; // guarded by this
  private long suppressed; // events counted since the last line, guarded by this
  private String lastDetail = ""; // guarded by this

  /**
   * @param intervalNanos at most one line per this many nanoseconds
   * @param nanoClock {@link System#nanoTime} except in tests
   * @param sink where a line goes (a logger's warn)
   */
  ThrottledWarning(long intervalNanos, LongSupplier nanoClock, Consumer<String> sink) {
    if (intervalNanos <= 0) {
      throw new IllegalArgumentException("intervalNanos must be > 0");
    }
    this.intervalNanos = intervalNanos;
    this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    this.sink = Objects.requireNonNull(sink, "sink");
  }

  /**
   * One event. {@code detail} is what the line says about the latest event (e.g. the error); the
   * line also says how many events it stands for.
   */
  void event(String detail) {
    String line = null;
    synchronized (this) {
      suppressed++;
      lastDetail = detail;
      long now = nanoClock.getAsLong();
      if (!loggedOnce || now - nextDueNanos >= 0) {
        line = line();
        loggedOnce = true;
        nextDueNanos = now + intervalNanos;
      }
    }
    if (line != null) {
      sink.accept(line);
    }
  }

  /** Reports the events counted since the last line if a line is due: call it now and then (a loop's turn). */
  void tick() {
    String line = null;
    synchronized (this) {
      long now = nanoClock.getAsLong();
      if (suppressed > 0 && now - nextDueNanos >= 0) {
        line = line();
        nextDueNanos = now + intervalNanos;
      }
    }
    if (line != null) {
      sink.accept(line);
    }
  }

  /** Reports events counted since the last line, if any, due or not (at close). */
  void flush() {
    String line = null;
    synchronized (this) {
      if (suppressed > 0) {
        line = line();
      }
    }
    if (line != null) {
      sink.accept(line);
    }
  }

  private String line() { // holds this
    String s = suppressed + (suppressed == 1 ? " time" : " times") + ", latest: " + lastDetail;
    suppressed = 0;
    return s;
  }
}
