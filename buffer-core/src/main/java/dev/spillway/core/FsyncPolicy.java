package dev.spillway.core;

import java.time.Duration;
import java.util.Objects;

/**
 * When spilled bytes are forced to the storage device. Chronicle maps its files into memory, so
 * without an fsync a record survives a process crash (the page cache has it) but not a power cut.
 * The loss window on power loss: {@link #none()} what the kernel had not yet written back
 * (typically up to 30 s); {@link #interval} one interval; {@link #everyBatch()} nothing
 * acknowledged, at the cost of one msync per batch.
 */
public final class FsyncPolicy {
  private static final FsyncPolicy NONE = new FsyncPolicy(Kind.NONE, Duration.ZERO);
  private static final FsyncPolicy EVERY_BATCH = new FsyncPolicy(Kind.EVERY_BATCH, Duration.ZERO);

  enum Kind {
    NONE,
    INTERVAL,
    EVERY_BATCH
  }

  private final Kind kind;
  private final Duration interval;

  private FsyncPolicy(Kind kind, Duration interval) {
    this.kind = kind;
    this.interval = interval;
  }

  public static FsyncPolicy none() {
    return NONE;
  }

  public static FsyncPolicy everyBatch() {
    return EVERY_BATCH;
  }

  /** Forces written records to disk at most {@code interval} after they were appended. */
  public static FsyncPolicy interval(Duration interval) {
    Objects.requireNonNull(interval, "interval");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("fsync interval must be positive, got " + interval);
    }
    return new FsyncPolicy(Kind.INTERVAL, interval);
  }

  /** Parses a configuration value: none, every-batch, or a duration such as 1s or 200ms. */
  public static FsyncPolicy fromConfigValue(String value) {
    return switch (value) {
      case "none" -> NONE;
      case "every-batch", "always" -> EVERY_BATCH;
      default -> interval(Durations.parse(value, "fsync"));
    };
  }

  Kind kind() {
    return kind;
  }

  Duration interval() {
    return interval;
  }

  @Override
  public String toString() {
    return switch (kind) {
      case NONE -> "none";
      case EVERY_BATCH -> "every-batch";
      case INTERVAL -> "interval " + interval;
    };
  }
}
