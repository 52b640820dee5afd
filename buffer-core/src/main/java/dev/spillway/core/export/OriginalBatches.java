package dev.spillway.core.export;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The SDK's items (spans, log records, metrics) behind each payload still in the buffer's memory
 * tier, keyed by the payload array's identity (the buffer hands a memory-tier batch back as the
 * very array offered). The drain exports them as they came, instead of parsing the payload back.
 * A batch read back from disk is a new array: not found here, it is parsed. Bounded: beyond {@code
 * maxPayloadBytes} of payloads the oldest entries are forgotten (their batches are then parsed,
 * nothing else changes); a bound of zero keeps nothing, for items the SDK reuses after export
 * returns. Thread-safe.
 *
 * @param <T> the SDK's item type
 */
final class OriginalBatches<T> {
  static final long DEFAULT_MAX_PAYLOAD_BYTES = 64L << 20;

  /** Identity, not content, of a payload array. */
  private record Key(byte[] payload) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && k.payload == payload;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(payload);
    }
  }

  private final long maxPayloadBytes;
  /** Guards {@link #batches} and {@link #bytes}. */
  private final Object lock = new Object();
  private final LinkedHashMap<Key, Collection<T>> batches = new LinkedHashMap<>();
  private long bytes;

  OriginalBatches(long maxPayloadBytes) {
    this.maxPayloadBytes = maxPayloadBytes;
  }

  /** Keeps a copy of {@code original}'s references (the SDK's processors reuse their lists). */
  void put(byte[] payload, Collection<T> original) {
    if (maxPayloadBytes == 0) {
      return;
    }
    List<T> copy = new ArrayList<>(original);
    synchronized (lock) {
      if (batches.put(new Key(payload), copy) == null) {
        bytes += payload.length;
      }
      Iterator<Map.Entry<Key, Collection<T>>> it = batches.entrySet().iterator();
      while (bytes > maxPayloadBytes && it.hasNext()) {
        bytes -= it.next().getKey().payload.length;
        it.remove();
      }
    }
  }

  /** The items offered as {@code payload}, or null. */
  Collection<T> get(byte[] payload) {
    synchronized (lock) {
      return batches.get(new Key(payload));
    }
  }

  void remove(byte[] payload) {
    synchronized (lock) {
      if (batches.remove(new Key(payload)) != null) {
        bytes -= payload.length;
      }
    }
  }

  int size() {
    synchronized (lock) {
      return batches.size();
    }
  }
}
