package dev.spillway.core.drain;

import dev.spillway.core.Delivery;
import java.time.Duration;

/**
 * Sends one batch downstream, one attempt per call: the {@link Drain} owns retries, back-off and
 * acknowledgement, so an implementation never acks or releases the delivery itself.
 *
 * <p>Called from the drain's threads (one at a time per thread; with several consumers, from
 * several threads at once).
 */
@FunctionalInterface
public interface BatchExporter {
  /**
   * Exports {@code batch}, answering within about {@code timeout}. An exception thrown here is
   * contained by the drain: a {@link RuntimeException} counts as a retryable failure; an {@link
   * Error} releases the batch and stops the drain, which then reports itself dead.
   */
  ExportOutcome export(Delivery batch, Duration timeout) throws InterruptedException;
}
