package dev.spillway.core;

/** What happens when the disk budget is spent. */
public enum OverflowPolicy {
  /** Refuse new batches with back-pressure (counted). The default: nothing accepted is lost. */
  REFUSE,
  /** Delete the oldest spill segment to make room (its batches are counted as dropped). */
  DROP_OLDEST;

  /** Parses a configuration value: refuse or drop-oldest. */
  public static OverflowPolicy fromConfigName(String name) {
    return switch (name) {
      case "refuse" -> REFUSE;
      case "drop-oldest" -> DROP_OLDEST;
      default -> throw new IllegalArgumentException(
          "unknown overflow policy '" + name + "' (expected refuse or drop-oldest)");
    };
  }
}
