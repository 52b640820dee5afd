package dev.spillway.core;


/**
 * One batch handed to the consumer. Exactly one of {@link #ack()} or {@link #release()} must be
 * called; until then the batch counts against the buffer and is redelivered after a restart.
 */
public interface Delivery {
  PayloadType payloadType();

  /** The plaintext payload (for traces, a serialized ExportTraceServiceRequest). */
  byte[] payload();

  /** Whether the batch was read back from the spill (as opposed to the memory tier). */
  boolean fromDisk();

  /** The batch was exported: it will not be delivered again, and its disk space can be freed. */
  void ack();

  /** The batch was not exported: it is delivered again, ahead of everything else. */
  void release();
}
