package dev.spillway.core.keys.aws;

import dev.spillway.core.keys.DataKey;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.SecretAccess;
import dev.spillway.core.keys.WrappedDataKey;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A bounded cache of unwrapped data keys, so a reader that re-reads an epoch (a restart of the
 * drain loop, a segment read twice, several openers) does not call the KMS again. Bounded in
 * count (least recently used out) and in age (so a key disabled in KMS stops opening new epochs
 * soon, and stops opening cached ones after the TTL). Evicted keys are zeroed.
 *
 * <p>Entries are keyed by a SHA-256 over provider, key ref, wrapped bytes and the context, so a
 * hit needs exactly the wrapped key and context that KMS accepted. Thread-safe.
 */
final class UnwrappedKeyCache {
  private final int maxEntries;
  private final long ttlNanos;
  private final LongSupplier nanoTime;
  private final Object lock = new Object(); // guards entries
  private final LinkedHashMap<ByteBuffer, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);

  private record Entry(byte[] key, long storedAtNanos) {}

  UnwrappedKeyCache(int maxEntries, long ttlNanos, LongSupplier nanoTime) {
    this.maxEntries = maxEntries;
    this.ttlNanos = ttlNanos;
    this.nanoTime = nanoTime;
  }

  /** A fresh copy of the cached key (the caller destroys it), or null. */
  DataKey get(WrappedDataKey wrapped, KeyContext context) {
    if (maxEntries == 0) {
      return null;
    }
    ByteBuffer id = id(wrapped, context);
    synchronized (lock) {
      Entry e = entries.get(id);
      if (e == null) {
        return null;
      }
      if (nanoTime.getAsLong() - e.storedAtNanos >= ttlNanos) {
        entries.remove(id);
        Arrays.fill(e.key, (byte) 0);
        return null;
      }
      return DataKey.adopt(e.key.clone(), SecretAccess.insecure());
    }
  }

  /** Remembers a copy of {@code key}. */
  void put(WrappedDataKey wrapped, KeyContext context, DataKey key) {
    if (maxEntries == 0) {
      return;
    }
    ByteBuffer id = id(wrapped, context);
    byte[] copy = key.bytes(SecretAccess.insecure());
    synchronized (lock) {
      Entry old = entries.put(id, new Entry(copy, nanoTime.getAsLong()));
      if (old != null) {
        Arrays.fill(old.key, (byte) 0);
      }
      Iterator<Map.Entry<ByteBuffer, Entry>> it = entries.entrySet().iterator();
      while (entries.size() > maxEntries && it.hasNext()) { // bounded: at most one pass
        Arrays.fill(it.next().getValue().key, (byte) 0);
        it.remove();
      }
    }
  }

  int size() {
    synchronized (lock) {
      return entries.size();
    }
  }

  private static ByteBuffer id(WrappedDataKey wrapped, KeyContext context) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
    byte[] ref = wrapped.keyRef().getBytes(StandardCharsets.UTF_8);
    sha.update(ByteBuffer.allocate(12).putInt(wrapped.provider().wireId()).putInt(ref.length)
        .putInt(wrapped.ciphertext().length).array());
    sha.update(ref);
    sha.update(wrapped.ciphertext());
    sha.update(context.toBytes());
    return ByteBuffer.wrap(sha.digest());
  }
}
