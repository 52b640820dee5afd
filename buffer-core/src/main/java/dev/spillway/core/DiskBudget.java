package dev.spillway.core;

/**
 * The disk budget: whether the next append fits, on the device (the free-space guard) and within
 * the configured maximum (refuse, or drop the oldest segment). Knows nothing of records or locks:
 * the appender calls it under the write lock before every append, and tells it what was written.
 *
 * <p>The free-space guard is what keeps a full device from ever reaching Chronicle: a SIGBUS on a
 * mapped page is reported by HotSpot asynchronously ("a fault occurred in a recent unsafe memory
 * access operation in compiled Java code"), so the append whose bytes were lost may already have
 * returned success. Near the threshold, free space is therefore measured before every append, not
 * every {@value #MEASURE_EVERY_MILLIS} ms.
 */
final class DiskBudget {
  static final long MEASURE_EVERY_BYTES = 1L << 20;
  static final long MEASURE_EVERY_MILLIS = 250;
  /** Within this of the free-space threshold, free space is measured before every append. */
  static final long NEAR_FULL_MARGIN_BYTES = 64L << 20;
  /** Drop-oldest gives up after this many segments for one append. */
  static final int MAX_DROPS_PER_APPEND = 1024;

  /** What the budget measures: the spill's allocated bytes and the device's free space. */
  interface Device {
    long allocatedBytes();

    long usableSpace();
  }

  /** The oldest segment, which drop-oldest may delete. */
  interface OldestSegment {
    boolean canDrop();

    void drop();
  }

  /** The append does not fit. {@code deviceFull}: the free-space guard refused (a storage fault). */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;
    final boolean deviceFull;

    Refused(String message, boolean deviceFull) {
      super(message, null, false, false);
      this.deviceFull = deviceFull;
    }
  }

  private final Device device;
  private final long maxDiskBytes;
  private final long minFreeDiskBytes;
  private final boolean freeSpaceGuard;
  private final OverflowPolicy overflow;
  private long measuredDiskBytes;
  private long appendedSinceMeasure;
  private long measuredAt;
  private long usableSpace;

  DiskBudget(Device device, long maxDiskBytes, long minFreeDiskBytes, boolean freeSpaceGuard,
      OverflowPolicy overflow, long now) {
    this.device = device;
    this.maxDiskBytes = maxDiskBytes;
    this.minFreeDiskBytes = minFreeDiskBytes;
    this.freeSpaceGuard = freeSpaceGuard;
    this.overflow = overflow;
    measure(now);
  }

  private void measure(long now) {
    measuredDiskBytes = device.allocatedBytes();
    usableSpace = device.usableSpace();
    appendedSinceMeasure = 0;
    measuredAt = now;
  }

  /**
   * Makes room for {@code bytes}, applying the overflow policy.
   *
   * @param now the buffer clock's milliseconds
   * @throws Refused naming the budget or the device, when it does not fit
   */
  void ensureRoom(int bytes, long now, OldestSegment oldest) throws Refused {
    if (appendedSinceMeasure >= MEASURE_EVERY_BYTES || now - measuredAt >= MEASURE_EVERY_MILLIS) {
      measure(now);
    }
    if (freeSpaceGuard) {
      long margin = minFreeDiskBytes + bytes + NEAR_FULL_MARGIN_BYTES;
      if (usableSpace - appendedSinceMeasure < margin) {
        usableSpace = device.usableSpace(); // near the edge: measure now (one statfs call)
        measuredDiskBytes += appendedSinceMeasure;
        appendedSinceMeasure = 0;
      }
      if (usableSpace - bytes < minFreeDiskBytes) {
        throw new Refused("the spill device is nearly full (" + (usableSpace >> 20) + " MiB free, "
            + (minFreeDiskBytes >> 20) + " MiB kept free)", true);
      }
    }
    for (int attempt = 0; attempt < MAX_DROPS_PER_APPEND; attempt++) {
      if (measuredDiskBytes + appendedSinceMeasure + bytes <= maxDiskBytes) {
        return;
      }
      if (overflow == OverflowPolicy.REFUSE || !oldest.canDrop()) {
        throw new Refused("spill disk budget of " + (maxDiskBytes >> 20) + " MiB is spent", false);
      }
      oldest.drop();
      measuredDiskBytes = device.allocatedBytes();
      appendedSinceMeasure = 0;
      measuredAt = now;
    }
    throw new Refused("spill disk budget is spent and dropping segments did not help", false);
  }

  /** {@code bytes} were appended since the last measurement. */
  void appended(int bytes) {
    appendedSinceMeasure += bytes;
  }
}
