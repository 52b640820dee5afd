package dev.spillway.core.drain;

/**
 * Hooks for a drain's metrics. Called on the drain's threads: keep them cheap and non-blocking.
 * Every method has an empty default.
 */
public interface DrainListener {
  DrainListener NOOP = new DrainListener() {};

  /** One export attempt returned (or threw) after {@code nanos}. */
  default void onAttempt(ExportOutcome outcome, long nanos) {}

  /** A failed batch is retried in hand after a wait. */
  default void onRetry(ExportOutcome outcome) {}

  /** A failed batch was released back to the buffer (retry budget spent, or stopping). */
  default void onReleased(ExportOutcome outcome) {}

  /** The drain stopped for good on an error it cannot recover from; it exports nothing more. */
  default void onDeath(Throwable cause) {}
}
