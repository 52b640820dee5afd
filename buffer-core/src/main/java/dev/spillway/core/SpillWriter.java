package dev.spillway.core;


/**
 * The ingest half of a buffer. A writer built with only writer keys seals to disk and cannot read
 * the spill back. Thread-safe: many receiver threads may offer at once.
 */
public interface SpillWriter extends AutoCloseable {
  /**
   * Takes one batch. Never blocks on the downstream; it may block briefly on the disk.
   *
   * @return where the batch went, or why it was refused (retryable)
   * @throws IllegalArgumentException for a payload larger than the writer's spill can hold in one
   *     record ({@link SpillBuffer#maxBatchBytes} for the local spill): never accepted, however
   *     long the caller waits
   */
  OfferResult offer(PayloadType type, byte[] payload);

  /** A snapshot of the counters and gauges. */
  BufferMetrics metrics();

  /** Seals what memory holds to disk and releases the files. Idempotent. */
  @Override
  void close();
}
