package dev.spillway.core;

import dev.spillway.core.seal.EnvelopeException;

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

  /** A record was quarantined. */
  default void onQuarantine(EnvelopeException.Reason reason) {}
}
