package dev.spillway.server.testing;

import dev.spillway.core.Delivery;
import dev.spillway.core.OfferResult;
import dev.spillway.core.SpillReader;
import dev.spillway.core.SpillWriter;
import dev.spillway.core.PayloadType;
import dev.spillway.server.BufferOpener;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test-only twin of the spill buffer: a bounded in-memory deque with the same contract (offer
 * refuses when full; release puts a batch back first). Used for receiver tests that do not need
 * the disk; the end-to-end tests use the real SpillBuffer.
 */
public final class InMemoryBuffer implements SpillWriter, SpillReader {
  private final LinkedBlockingDeque<byte[]> queue = new LinkedBlockingDeque<>();
  /** The payload type each queued payload was offered with (by identity). */
  private final java.util.Map<byte[], PayloadType> types =
      java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());
  private final int capacity;
  public final AtomicBoolean refuseAll = new AtomicBoolean();
  public final AtomicInteger acked = new AtomicInteger();

  public InMemoryBuffer(int capacity) {
    this.capacity = capacity;
  }

  @Override
  public OfferResult offer(PayloadType type, byte[] payload) {
    if (refuseAll.get() || queue.size() >= capacity) {
      return new OfferResult(OfferResult.Outcome.REFUSED, "full");
    }
    byte[] copy = payload.clone();
    types.put(copy, type);
    queue.addLast(copy);
    return new OfferResult(OfferResult.Outcome.IN_MEMORY, "");
  }

  @Override
  public Delivery poll(Duration timeout) throws InterruptedException {
    byte[] p = queue.pollFirst(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (p == null) {
      return null;
    }
    return new Delivery() {
      @Override
      public PayloadType payloadType() {
        return typeOf(p);
      }

      @Override
      public byte[] payload() {
        return p.clone();
      }

      @Override
      public boolean fromDisk() {
        return false;
      }

      @Override
      public void ack() {
        acked.incrementAndGet();
      }

      @Override
      public void release() {
        queue.addFirst(p);
      }
    };
  }

  @Override
  public dev.spillway.core.BufferMetrics metrics() {
    return new dev.spillway.core.BufferMetrics(
        queue.size(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, acked.get(), 0, 0, 0, 0, 0, 0);
  }

  /** The type {@code payload} (one of this buffer's, as drainAll returns them) was offered with. */
  public PayloadType typeOf(byte[] payload) {
    return types.getOrDefault(payload, PayloadType.OTLP_TRACES);
  }

  public int size() {
    return queue.size();
  }

  /** Takes everything queued (for tests that run without a drain loop). */
  public java.util.List<byte[]> drainAll() {
    java.util.List<byte[]> out = new java.util.ArrayList<>();
    queue.drainTo(out);
    return out;
  }

  @Override
  public void close() {}

  public BufferOpener opener() {
    return (config, role, observer) -> new BufferOpener.Opened(
        role == dev.spillway.server.Role.DRAIN ? Optional.empty() : Optional.of(this),
        role == dev.spillway.server.Role.INGEST ? Optional.empty() : Optional.of(this),
        () -> null, () -> {});
  }
}
