package dev.spillway.core;


/**
 * Optional hooks for latency metrics. Called on the buffer's own threads: keep them cheap and
 * non-blocking. Every method has an empty default.
 */
public interface BufferObserver {
  BufferObserver NOOP = new BufferObserver() {};

  /** A sealed batch (and any key record before it) was appended; {@code nanos} is the append time. */
  default void onStorageWrite(long nanos, int bytes) {}

  /** A key provider call finished. {@code operation} is issue or unwrap. */
  default void onKeyProviderCall(String operation, long nanos, boolean success) {}

  /**
   * A batch first held in memory was sealed to disk later (an overflow, {@code sealMemory}, or
   * close), as opposed to sealed on arrival ({@link OfferResult.Outcome#SPILLED}). Together the
   * two count everything that reached the spill. {@code payload} is the batch's plaintext: count
   * its items, never keep or log it.
   */
  default void onMovedToDisk(PayloadType type, byte[] payload) {}

  /** A record was quarantined. */
  default void onQuarantine(QuarantineReason reason) {}
}
