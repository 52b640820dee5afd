package dev.spillway.core;

import java.io.IOException;
import java.time.Duration;

/**
 * An encrypted spill buffer: a memory tier first, then sealed records in a Chronicle Queue on disk.
 *
 * <p><b>Ordering.</b> Batches are delivered oldest first across both tiers: disk always holds older
 * batches than memory. When a batch does not fit the memory tier, the oldest memory batches are
 * sealed to disk to make room for it (as many as it needs; all of them, and then the batch itself,
 * if it cannot fit at all), and the reader delivers what disk holds before memory. A released (not
 * acknowledged) delivery is delivered again before anything else.
 *
 * <p><b>Durability.</b> See {@link Durability}. Acknowledgement is at-least-once: a batch
 * delivered but not acknowledged before a crash is delivered again after restart.
 *
 * <p><b>Thread safety.</b> {@link #offer} may be called from many threads. {@link #poll} is meant
 * for one consumer thread. {@link #close} is idempotent.
 */
public final class SpillBuffer implements SpillWriter, SpillReader {
  /**
   * The largest {@link SpillBufferBuilder#maxBatchBytes} a buffer can be built with, in bytes (just
   * under 16 MiB): a sealed record, compressed or not, must fit in one record of the Chronicle spill.
   */
  public static final int MAX_BATCH_BYTES = BufferEngine.MAX_BATCH_BYTES;
  /**
   * The largest payload {@link #offer} takes unless the builder says otherwise, in bytes (just under
   * 8 MiB, twice the OTLP receivers' default 4 MiB request). A larger payload is refused with {@link
   * IllegalArgumentException}, in any tier and state; split it.
   */
  public static final int DEFAULT_MAX_BATCH_BYTES = BufferEngine.DEFAULT_MAX_BATCH_BYTES;

  private final BufferEngine engine;

  private SpillBuffer(BufferEngine engine) {
    this.engine = engine;
  }

  public static SpillBufferBuilder builder() {
    return new SpillBufferBuilder();
  }

  static SpillBuffer open(SpillBufferBuilder b) throws IOException {
    return new SpillBuffer(BufferEngine.open(b, true, true));
  }

  /** The ingest half alone: a type with no way to read. */
  static SpillWriter openWriter(SpillBufferBuilder b) throws IOException {
    BufferEngine engine = BufferEngine.open(b, true, false);
    return new SpillWriter() {
      @Override
      public OfferResult offer(PayloadType type, byte[] payload) {
        return engine.offer(type, payload);
      }

      @Override
      public BufferMetrics metrics() {
        return engine.metrics();
      }

      @Override
      public void close() {
        engine.close();
      }
    };
  }

  /** The drain half alone: a type with no way to write. */
  static SpillReader openReader(SpillBufferBuilder b) throws IOException {
    BufferEngine engine = BufferEngine.open(b, false, true);
    return new SpillReader() {
      @Override
      public Delivery poll(Duration timeout) throws InterruptedException {
        return engine.poll(timeout);
      }

      @Override
      public BufferMetrics metrics() {
        return engine.metrics();
      }

      @Override
      public void close() {
        engine.close();
      }
    };
  }

  @Override
  public OfferResult offer(PayloadType type, byte[] payload) {
    return engine.offer(type, payload);
  }

  @Override
  public Delivery poll(Duration timeout) throws InterruptedException {
    return engine.poll(timeout);
  }

  /** The largest payload {@link #offer} takes, in bytes ({@link SpillBufferBuilder#maxBatchBytes}). */
  public int maxBatchBytes() {
    return engine.maxBatchBytes();
  }

  /** For tests in this package. */
  BufferEngine engine() {
    return engine;
  }

  @Override
  public BufferMetrics metrics() {
    return engine.metrics();
  }

  /**
   * Seals what memory holds to disk now, as {@link #close()} would, without closing: the memory
   * tier, and batches handed out or released and not yet acknowledged (a batch the consumer then
   * acknowledges is not delivered again from disk). New batches use memory again, delivered after
   * the sealed ones.
   *
   * @throws IOException naming why, when something could not be sealed (it stays in memory)
   */
  public void sealMemory() throws IOException {
    engine.sealMemory();
  }

  /**
   * Drops everything spilled and in memory and forgets every data key (crypto-shredding). For an
   * operator who must; counted as dropped.
   */
  public void purge() throws IOException {
    engine.purge();
  }

  /** Seals what memory holds to disk and closes the files. Idempotent. */
  @Override
  public void close() {
    engine.close();
  }
}
