package dev.spillway.core;

import java.util.HashSet;
import java.util.Set;
import java.util.function.LongPredicate;

/**
 * Disk records that are twins of memory-origin batches: when memory overflows to disk or is sealed,
 * a batch the consumer holds from memory is sealed first (so nothing newer overtakes it on disk, and it
 * survives a crash), and the disk copy must then
 * be neither delivered while the memory copy is out nor delivered again once that is acknowledged.
 *
 * <ul>
 *   <li><b>out</b>: the memory copy is with the consumer; the reader waits at the disk copy;
 *   <li><b>acknowledged</b>: the memory copy was acknowledged; the reader skips the disk copy;
 *   <li>released: neither; the disk copy delivers it, in order.
 * </ul>
 *
 * While a twin is being appended it is readable before it is registered: every record after what
 * was on disk before is held ({@link #appending}) until {@link #appended}.
 *
 * <p>Not thread-safe: the engine holds its {@code state} lock.
 */
final class DiskTwins {
  private final Set<Long> out = new HashSet<>();
  private final Set<Long> acknowledged = new HashSet<>();
  private long holdAfter = Long.MAX_VALUE;

  /** A twin is being appended after {@code lastOnDisk}: hold the reader off everything after it. */
  void appending(long lastOnDisk) {
    holdAfter = lastOnDisk;
  }

  /** The twin's append ended (registered or failed). */
  void appended() {
    holdAfter = Long.MAX_VALUE;
  }

  /** The twin at {@code position} has its memory copy with the consumer. */
  void out(long position) {
    out.add(position);
  }

  /** The memory copy was acknowledged (before or after the twin was registered): skip the disk copy. */
  void acknowledged(long position) {
    out.remove(position);
    acknowledged.add(position);
  }

  /** The memory copy was released: the disk copy delivers it. */
  void released(long position) {
    out.remove(position);
  }

  /** Whether the reader must wait at {@code position}. */
  boolean mustWait(long position) {
    return out.contains(position) || position > holdAfter;
  }

  /** Whether the record at {@code position} was acknowledged from memory; forgets it either way. */
  boolean takeAcknowledged(long position) {
    return acknowledged.remove(position);
  }

  /** Forgets positions whose records are gone (drop-oldest). */
  void forget(LongPredicate gone) {
    out.removeIf(gone::test);
    acknowledged.removeIf(gone::test);
  }

  void clear() {
    out.clear();
    acknowledged.clear();
    holdAfter = Long.MAX_VALUE;
  }
}
