package dev.spillway.core;

import java.time.Duration;

/**
 * The drain half of a buffer. Delivers batches oldest first. Meant for one consumer thread; polls
 * from several threads are safe but share one ordered stream.
 */
public interface SpillReader extends AutoCloseable {
  /**
   * Waits up to {@code timeout} for the next batch.
   *
   * @return the batch, or null if none arrived in time or the reader is closed
   */
  Delivery poll(Duration timeout) throws InterruptedException;

  /** A snapshot of the counters and gauges. */
  BufferMetrics metrics();

  @Override
  void close();
}
