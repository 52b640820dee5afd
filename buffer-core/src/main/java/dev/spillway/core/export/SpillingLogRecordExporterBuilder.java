package dev.spillway.core.export;

import dev.spillway.core.SpillBufferBuilder;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;

/**
 * Builds a {@link SpillingLogRecordExporter}. Setters validate at once and throw {@link
 * IllegalArgumentException} naming the setting. The defaults are those of {@link
 * SpillingSpanExporterBuilder}.
 */
public final class SpillingLogRecordExporterBuilder {
  private final LogRecordExporter delegate;
  private final SpillBufferBuilder buffer;
  private final ReplaySettings settings = new ReplaySettings();

  SpillingLogRecordExporterBuilder(LogRecordExporter delegate, SpillBufferBuilder buffer) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.buffer = Objects.requireNonNull(buffer, "buffer");
  }

  /**
   * How long one replay attempt may take on the delegate before the batch is left in the buffer
   * and retried after the back-off. Default {@value
   * SpillingSpanExporterBuilder#DEFAULT_EXPORT_TIMEOUT_MILLIS} ms. A delegate that answers later
   * still delivers its copy, so a slow delegate can see a batch twice (at-least-once). Keep the delegate's whole call (its timeout times its attempts) under it:
   * best, give the delegate one attempt ({@code setRetryPolicy(null)}) and a shorter timeout.
   */
  public SpillingLogRecordExporterBuilder setExportTimeout(Duration timeout) {
    settings.exportTimeout(timeout);
    return this;
  }

  /**
   * Waits between replay attempts while the delegate keeps failing: {@code initial}, doubling up
   * to {@code max}, each scaled by a random factor in [0.5, 1.5]; reset by a success. Defaults {@value
   * SpillingSpanExporterBuilder#DEFAULT_REPLAY_BACKOFF_INITIAL_MILLIS} ms and {@value
   * SpillingSpanExporterBuilder#DEFAULT_REPLAY_BACKOFF_MAX_MILLIS} ms.
   */
  public SpillingLogRecordExporterBuilder setReplayBackoff(Duration initial, Duration max) {
    settings.replayBackoff(initial, max);
    return this;
  }

  /**
   * How long {@link SpillingLogRecordExporter#shutdown()} keeps replaying a backlog while the delegate
   * accepts it, before sealing the rest to disk for the next start. Default {@value
   * SpillingSpanExporterBuilder#DEFAULT_SHUTDOWN_DRAIN_TIMEOUT_MILLIS} ms; zero seals at once.
   */
  public SpillingLogRecordExporterBuilder setShutdownDrainTimeout(Duration timeout) {
    settings.shutdownDrainTimeout(timeout);
    return this;
  }

  /**
   * Opens the spill buffer (both halves: the buffer builder needs writer and reader keys) and
   * starts the drain thread.
   *
   * @throws IOException if the spill directory cannot be opened (see {@link
   *     SpillBufferBuilder#build()})
   * @throws IllegalStateException if the buffer builder lacks a directory or keys
   */
  public SpillingLogRecordExporter build() throws IOException {
    return SpillingLogRecordExporter.start(delegate, buffer, settings);
  }
}
