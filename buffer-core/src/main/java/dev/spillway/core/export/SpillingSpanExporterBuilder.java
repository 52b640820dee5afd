package dev.spillway.core.export;

import dev.spillway.core.SpillBufferBuilder;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;

/**
 * Builds a {@link SpillingSpanExporter}. Setters validate at once and throw {@link
 * IllegalArgumentException} naming the setting.
 */
public final class SpillingSpanExporterBuilder {
  /** Default time the delegate gets for one replay attempt: {@value} ms. */
  public static final long DEFAULT_EXPORT_TIMEOUT_MILLIS = ReplaySettings.DEFAULT_EXPORT_TIMEOUT_MILLIS;
  /** Default first wait before replaying again after a failed replay: {@value} ms. */
  public static final long DEFAULT_REPLAY_BACKOFF_INITIAL_MILLIS =
      ReplaySettings.DEFAULT_REPLAY_BACKOFF_INITIAL_MILLIS;
  /** Default longest wait between replay attempts to a failing delegate: {@value} ms. */
  public static final long DEFAULT_REPLAY_BACKOFF_MAX_MILLIS = ReplaySettings.DEFAULT_REPLAY_BACKOFF_MAX_MILLIS;
  /** Default time shutdown keeps replaying a backlog to a healthy delegate: {@value} ms. */
  public static final long DEFAULT_SHUTDOWN_DRAIN_TIMEOUT_MILLIS =
      ReplaySettings.DEFAULT_SHUTDOWN_DRAIN_TIMEOUT_MILLIS;

  private final SpanExporter delegate;
  private final SpillBufferBuilder buffer;
  private final ReplaySettings settings = new ReplaySettings();

  SpillingSpanExporterBuilder(SpanExporter delegate, SpillBufferBuilder buffer) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.buffer = Objects.requireNonNull(buffer, "buffer");
  }

  /**
   * How long one replay attempt may take on the delegate before the batch is left in the buffer
   * and retried after the back-off. Default {@value #DEFAULT_EXPORT_TIMEOUT_MILLIS} ms. A delegate
   * that answers later still delivers its copy, so a slow delegate can see a batch twice
   * (at-least-once). Keep the delegate's whole call (its timeout times its attempts) under it:
   * best, give the delegate one attempt ({@code setRetryPolicy(null)}) and a shorter timeout.
   */
  public SpillingSpanExporterBuilder setExportTimeout(Duration timeout) {
    settings.exportTimeout(timeout);
    return this;
  }

  /**
   * Waits between replay attempts while the delegate keeps failing: {@code initial}, doubling up
   * to {@code max}, each scaled by a random factor in [0.5, 1.5]; reset by a success. Defaults {@value
   * #DEFAULT_REPLAY_BACKOFF_INITIAL_MILLIS} ms and {@value #DEFAULT_REPLAY_BACKOFF_MAX_MILLIS} ms.
   */
  public SpillingSpanExporterBuilder setReplayBackoff(Duration initial, Duration max) {
    settings.replayBackoff(initial, max);
    return this;
  }

  /**
   * How long {@link SpillingSpanExporter#shutdown()} keeps replaying a backlog while the delegate
   * accepts it, before sealing the rest to disk for the next start. Default {@value
   * #DEFAULT_SHUTDOWN_DRAIN_TIMEOUT_MILLIS} ms; zero seals at once.
   */
  public SpillingSpanExporterBuilder setShutdownDrainTimeout(Duration timeout) {
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
  public SpillingSpanExporter build() throws IOException {
    return SpillingSpanExporter.start(delegate, buffer, settings);
  }
}
