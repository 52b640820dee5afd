package dev.spillway.core;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongPredicate;

/**
 * Durable mode: the plaintext of batches this process has just appended, by position, so the
 * reader need not decrypt and decompress its own appends. It only saves work: the cursor still
 * authenticates the record on disk before the cached plaintext is delivered. Bounded in bytes;
 * the oldest entries go first. Not thread-safe: the engine holds its {@code state} lock.
 */
final class ReadCache {
  private final long limitBytes;
  private final LinkedHashMap<Long, byte[]> entries = new LinkedHashMap<>();
  private long bytes;

  ReadCache(long limitBytes) {
    this.limitBytes = limitBytes;
  }

  /** Keeps the plaintext of the batch at {@code position}; one larger than the whole limit is not kept. */
  void put(long position, byte[] plaintext) {
    if (plaintext.length > limitBytes) {
      return;
    }
    byte[] old = entries.put(position, plaintext);
    bytes += plaintext.length - (old == null ? 0 : old.length);
    Iterator<Map.Entry<Long, byte[]>> it = entries.entrySet().iterator();
    while (bytes > limitBytes && it.hasNext()) {
      bytes -= it.next().getValue().length;
      it.remove();
    }
  }

  /** Removes and returns the plaintext at {@code position}, or null. */
  byte[] take(long position) {
    byte[] p = entries.remove(position);
    if (p != null) {
      bytes -= p.length;
    }
    return p;
  }

  /** Forgets positions whose records are gone (drop-oldest). */
  void forget(LongPredicate gone) {
    entries.keySet().removeIf(gone::test);
    bytes = entries.values().stream().mapToLong(b -> b.length).sum();
  }

  void clear() {
    entries.clear();
    bytes = 0;
  }

  long bytes() {
    return bytes;
  }

  long limitBytes() {
    return limitBytes;
  }

  int size() {
    return entries.size();
  }
}
