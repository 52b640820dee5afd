package dev.spillway.core.export.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * A warning logger for hot paths: at most one message per interval, then a count of what it held
 * back. Thread-safe. Not API.
 */
public final class ThrottledLog {
  private final Logger log;
  private final long intervalNanos;
  private final AtomicLong nextAt;
  private final AtomicLong suppressed = new AtomicLong();

  public ThrottledLog(Logger log, long interval, TimeUnit unit) {
    this.log = log;
    this.intervalNanos = unit.toNanos(interval);
    this.nextAt = new AtomicLong(System.nanoTime());
  }

  /** Logs at WARN unless a message went out less than an interval ago. */
  public void warn(String format, Object... args) {
    long now = System.nanoTime();
    long next = nextAt.get();
    if (now - next >= 0 && nextAt.compareAndSet(next, now + intervalNanos)) {
      long held = suppressed.getAndSet(0);
      if (held > 0) {
        log.warn(format + " (" + held + " similar warnings suppressed)", args);
      } else {
        log.warn(format, args);
      }
    } else {
      suppressed.incrementAndGet();
    }
  }
}
