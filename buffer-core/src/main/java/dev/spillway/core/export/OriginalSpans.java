package dev.spillway.core.export;

import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The SDK's spans behind each payload still in the buffer's memory tier, keyed by the payload
 * array's identity (the buffer hands a memory-tier batch back as the very array offered). The
 * drain exports them as they came, instead of parsing the payload back. A batch read back from
 * disk is a new array: not found here, it is parsed. Bounded: beyond {@code maxPayloadBytes} of
 * payloads the oldest entries are forgotten (their batches are then parsed, nothing else changes).
 * Thread-safe.
 */
final class OriginalSpans {
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
  /** Guards {@link #spans} and {@link #bytes}. */
  private final Object lock = new Object();
  private final LinkedHashMap<Key, Collection<SpanData>> spans = new LinkedHashMap<>();
  private long bytes;

  OriginalSpans(long maxPayloadBytes) {
    this.maxPayloadBytes = maxPayloadBytes;
  }

  void put(byte[] payload, Collection<SpanData> original) {
    synchronized (lock) {
      if (spans.put(new Key(payload), original) == null) {
        bytes += payload.length;
      }
      Iterator<Map.Entry<Key, Collection<SpanData>>> it = spans.entrySet().iterator();
      while (bytes > maxPayloadBytes && it.hasNext()) {
        bytes -= it.next().getKey().payload.length;
        it.remove();
      }
    }
  }

  /** The spans offered as {@code payload}, or null. */
  Collection<SpanData> get(byte[] payload) {
    synchronized (lock) {
      return spans.get(new Key(payload));
    }
  }

  void remove(byte[] payload) {
    synchronized (lock) {
      if (spans.remove(new Key(payload)) != null) {
        bytes -= payload.length;
      }
    }
  }

  int size() {
    synchronized (lock) {
      return spans.size();
    }
  }
}
