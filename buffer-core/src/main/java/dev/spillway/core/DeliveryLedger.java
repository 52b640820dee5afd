package dev.spillway.core;

import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongPredicate;

/**
 * The positions of disk batches between "read" and "acknowledged", and from them the commit
 * position: the first position not yet acknowledged, so a restart redelivers everything after the
 * last acknowledged prefix and nothing before it (at-least-once). Several batches may be out at
 * once and be acknowledged in any order: the commit only ever moves past an unbroken run of
 * settled positions. Knows nothing of files, keys or threads: the engine calls it under its
 * {@code state} lock.
 *
 * <p>Positions are the spill log's, increasing in read order. A position is <i>outstanding</i>
 * from {@link #delivered} until {@link #ack}; {@link #skipped} records one that needs no delivery
 * (quarantined, too old, already acknowledged from memory) so the commit can move past it.
 */
final class DeliveryLedger {
  /** Outstanding and settled positions not yet committed past, by position. */
  private final TreeMap<Long, Entry> entries = new TreeMap<>();
  /** Where the reader will read next; the commit position once nothing is outstanding. */
  private long readPosition = -1;

  private static final class Entry {
    final long sealedAtMillis;
    boolean settled;

    Entry(long sealedAtMillis, boolean settled) {
      this.sealedAtMillis = sealedAtMillis;
      this.settled = settled;
    }
  }

  /** A batch at {@code position} was handed to the consumer. Delivered again, it stays outstanding. */
  void delivered(long position, long sealedAtMillis) {
    entries.put(position, new Entry(sealedAtMillis, false));
  }

  /** The record at {@code position} needs no delivery: settled at once. */
  void skipped(long position) {
    entries.putIfAbsent(position, new Entry(0, true));
    entries.get(position).settled = true;
  }

  /** The reader has read everything before {@code position}. */
  void readUpTo(long position) {
    readPosition = position;
  }

  long readPosition() {
    return readPosition;
  }

  /**
   * Settles an outstanding position.
   *
   * @return false if it was not outstanding: acknowledged already, or its segment was dropped
   */
  boolean ack(long position) {
    Entry e = entries.get(position);
    if (e == null || e.settled) {
      return false;
    }
    e.settled = true;
    return true;
  }

  /** Whether {@code position} is outstanding (a release keeps it so: it is delivered again). */
  boolean isOutstanding(long position) {
    Entry e = entries.get(position);
    return e != null && !e.settled;
  }

  /**
   * The position everything before which is acknowledged: the first outstanding position, or the
   * read position when none is. Forgets the settled prefix. -1 when nothing was read yet.
   */
  long commitPosition() {
    while (!entries.isEmpty() && entries.firstEntry().getValue().settled) {
      entries.pollFirstEntry();
    }
    return entries.isEmpty() ? readPosition : entries.firstKey();
  }

  /** Forgets positions whose records are gone (a segment dropped by the overflow policy). */
  void forget(LongPredicate gone) {
    entries.keySet().removeIf(gone::test);
  }

  /** Outstanding positions. */
  long outstanding() {
    return entries.values().stream().filter(e -> !e.settled).count();
  }

  /** When the oldest outstanding batch was sealed, or 0 if none is outstanding (or it is unknown). */
  long oldestOutstandingSealedAt() {
    for (Iterator<Map.Entry<Long, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
      Entry e = it.next().getValue();
      if (!e.settled) {
        return e.sealedAtMillis;
      }
    }
    return 0;
  }

  void clear() {
    entries.clear();
    readPosition = -1;
  }
}
