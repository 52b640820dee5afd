package dev.spillway.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The memory tier: batches accepted into memory, in offer order, and the memory-origin deliveries
 * handed out and not yet settled. Every batch has an ordinal, its place in offer order, so that when
 * batches go to disk (to make room, or when the tier is sealed) they go oldest first, ahead of newer ones.
 *
 * <p>Not thread-safe: the engine holds its {@code state} lock.
 */
final class MemoryTier {
  /**
   * A memory-origin batch: queued in the tier, or ({@code delivery}) one handed out and not yet
   * settled, identified by its ordinal.
   */
  record Batch(PayloadType type, byte[] payload, long ordinal, boolean delivery) {}

  private final ArrayDeque<Batch> queued = new ArrayDeque<>();
  private long queuedBytes;
  /** Deliveries handed out (or released) and not yet settled, by ordinal. */
  private final Map<Long, BatchDelivery> out = new LinkedHashMap<>();
  private long nextOrdinal;

  void add(PayloadType type, byte[] payload) {
    queued.addLast(new Batch(type, payload, nextOrdinal++, false));
    queuedBytes += payload.length;
  }

  /** The oldest queued batch, or null. It is to be handed out ({@link #handedOut}). */
  Batch poll() {
    Batch b = queued.pollFirst();
    if (b != null) {
      queuedBytes -= b.payload().length;
    }
    return b;
  }

  /** A delivery of a memory batch is with the consumer (again, after a release). */
  void handedOut(BatchDelivery d) {
    out.put(d.position, d);
  }

  /** The unsettled delivery of ordinal {@code ordinal}, or null once it settled. */
  BatchDelivery out(long ordinal) {
    return out.get(ordinal);
  }

  /** The delivery of {@code ordinal} settled (acknowledged, or its disk twin now delivers it). */
  void settled(long ordinal) {
    out.remove(ordinal);
  }

  /**
   * Takes everything bound for disk, oldest first: the queued batches, and the unsettled deliveries
   * that have no twin on disk yet. The deliveries stay recorded as out until they settle.
   */
  List<Batch> takeForDisk() {
    List<Batch> older = new ArrayList<>();
    for (BatchDelivery d : out.values()) {
      if (d.sealedTo < 0) {
        older.add(new Batch(d.type, d.payload, d.position, true));
      }
    }
    older.addAll(queued);
    queued.clear();
    queuedBytes = 0;
    older.sort(Comparator.comparingLong(Batch::ordinal));
    return older;
  }

  /**
   * Takes the oldest queued batches, at least {@code bytes} of them (all, if the tier holds less),
   * to make room: they go to disk ahead of anything newer. The deliveries out without a twin on
   * disk come first, even when nothing is queued: they are older still, and must not be overtaken
   * on disk by anything newer (they free no room: they stay in flight until they settle).
   */
  List<Batch> takeOldest(long bytes) {
    List<Batch> taken = new ArrayList<>();
    if (bytes <= 0) {
      return taken; // room enough: nothing goes to disk
    }
    for (BatchDelivery d : out.values()) {
      if (d.sealedTo < 0) {
        taken.add(new Batch(d.type, d.payload, d.position, true));
      }
    }
    taken.sort(Comparator.comparingLong(Batch::ordinal));
    long freed = 0;
    while (freed < bytes && !queued.isEmpty()) {
      Batch b = queued.pollFirst();
      queuedBytes -= b.payload().length;
      freed += b.payload().length;
      taken.add(b);
    }
    return taken;
  }

  /** The bytes of the queued batches among {@code batches} (deliveries count as in flight instead). */
  static long queuedBytes(List<Batch> batches) {
    long n = 0;
    for (Batch b : batches) {
      if (!b.delivery()) {
        n += b.payload().length;
      }
    }
    return n;
  }

  /** A queued batch that could not reach disk goes back to the front (call newest first). */
  void putBack(Batch b) {
    if (!b.delivery()) {
      queued.addFirst(b);
      queuedBytes += b.payload().length;
    }
  }

  /** At close: everything left to seal, oldest first; the tier is empty afterwards. */
  List<Batch> takeAllForClose() {
    List<Batch> all = takeForDisk();
    out.clear();
    return all;
  }

  /** Empties the tier (an operator purge); returns how many batches were lost. */
  long clear() {
    long lost = queued.size() + out.size();
    queued.clear();
    out.clear();
    queuedBytes = 0;
    return lost;
  }

  /** The ordinal the next batch accepted will get: every batch accepted so far has a smaller one. */
  long nextOrdinal() {
    return nextOrdinal;
  }

  int queued() {
    return queued.size();
  }

  long queuedBytes() {
    return queuedBytes;
  }

  boolean isEmpty() {
    return queued.isEmpty();
  }
}
