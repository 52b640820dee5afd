package dev.spillway.core;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.function.LongPredicate;

/**
 * Where every batch the buffer holds stands, and each step that moves one: the {@link MemoryTier},
 * deliveries out and to be redelivered, {@link DiskTwins}, the disk {@link DeliveryLedger} and
 * {@link DiskBacklog}, the {@link ReadCache}, the {@link EngineCounters}, and whether the buffer
 * has closed. Each method is one step the engine takes under its {@code state} lock; none does
 * I/O, waits, or takes a lock, so the rules of the tiers (disk holds older batches than memory,
 * twins, settling) are tested here without a disk or a thread ({@code BufferStateTest}). The
 * engine keeps the locks, the appends, the reads and the waiting.
 *
 * <p>Not thread-safe: every call is made with the engine's {@code state} lock held. It is also
 * the reader's {@link DiskReader.Engine}, whose calls come under that lock too.
 */
final class BufferState implements DiskReader.Engine {
  /** Memory-origin batches taken for disk, oldest first, and the memory held for them meanwhile. */
  record Eviction(List<MemoryTier.Batch> batches, long heldBytes) {
    static final Eviction NONE = new Eviction(List.of(), 0);
  }

  private final BatchDelivery.Settler settler;
  private final long memorySoftLimit;
  /** Durable mode with a reader: the plaintext of this process's appends is kept for the reader. */
  private final boolean cacheAppends;
  private final Clock clock;
  /** Commits past an acknowledged disk delivery (the reader's {@link DiskReader#acknowledgedLocked}). */
  private final LongConsumer diskAcknowledged;

  private final MemoryTier memory = new MemoryTier();
  private final ArrayDeque<BatchDelivery> redeliver = new ArrayDeque<>();
  /** Disk records whose batch the consumer also holds, or held, from memory. */
  private final DiskTwins twins = new DiskTwins();
  /** Disk deliveries not yet acknowledged (and auto-acknowledged skips), by position. */
  final DeliveryLedger ledger = new DeliveryLedger();
  /** What disk holds that the reader has not delivered: an earlier run's, this run's appends. */
  final DiskBacklog backlog;
  /** Durable mode: plaintext of batches just appended, so the reader need not decompress them. */
  private final ReadCache readCache;
  final EngineCounters counters = new EngineCounters();
  /** Bytes of batches with the consumer (memory or disk) until they settle. */
  private long inFlightBytes;
  /**
   * Memory held for the offer or seal under the write lock: the queued batches it took for disk
   * until they are appended, and the room an offer makes for its own batch. Memory-tier offers
   * cannot take it meanwhile.
   */
  private long heldBytes;
  /** The reader stopped at a record whose memory twin is in flight; an ack or release clears it. */
  private boolean waitingForTwin;
  private boolean closed;

  BufferState(BatchDelivery.Settler settler, long memorySoftLimit, boolean cacheAppends, boolean earlierRunOnDisk,
      Clock clock, LongConsumer diskAcknowledged) {
    this.settler = settler;
    this.memorySoftLimit = memorySoftLimit;
    this.cacheAppends = cacheAppends;
    this.clock = clock;
    this.diskAcknowledged = diskAcknowledged;
    this.backlog = new DiskBacklog(earlierRunOnDisk);
    this.readCache = new ReadCache(memorySoftLimit);
  }

  // ------------------------------------------------------------------ offers

  @Override
  public boolean closed() {
    return closed;
  }

  /**
   * Whether disk holds, or is about to hold, batches older than the memory tier's: an earlier
   * run's backlog, this run's unread appends, or appends under way. Poll reads disk first then.
   */
  boolean diskHasOlder() {
    return backlog.hasOlder();
  }

  /** Whether a batch of {@code size} may go straight to memory: nothing older on disk, and room. */
  boolean memoryTakes(int size) {
    return !diskHasOlder() && size <= memoryRoom();
  }

  /**
   * What the memory tier may still take. Batches being delivered occupy memory until they are
   * acknowledged; memory held by the offer under the write lock, until it settles.
   */
  private long memoryRoom() {
    return memorySoftLimit - memory.queuedBytes() - inFlightBytes - heldBytes;
  }

  OfferResult acceptInMemory(PayloadType type, byte[] payload) {
    memory.add(type, payload);
    counters.acceptedInMemory++;
    return OfferResult.IN_MEMORY;
  }

  /**
   * One round of making room in memory for {@code payload}, under the write lock: settles the last
   * round's eviction (all of it appended) and, in the same step, accepts the batch in memory if it
   * now fits (null). Otherwise takes the oldest memory batches for disk, as many as the batch needs
   * room for, and holds that room until the next round: no memory-tier offer may take it meanwhile.
   * While the reader is behind (an outage), the first round takes two batches' worth, one more
   * than it needs, so memory empties into the spill a batch at a time and a long outage leaves
   * little in memory for a crash to lose. {@link Eviction#NONE}: nothing is left to take, the batch
   * goes to disk (everything older is there by then).
   */
  Eviction makeRoom(PayloadType type, byte[] payload, Eviction lastRound, boolean firstRound) {
    settleEviction(lastRound, lastRound.batches().size());
    long room = memoryRoom();
    boolean drainMemory = firstRound && backlog.readerBehind();
    if (payload.length <= room && !drainMemory) {
      acceptInMemory(type, payload);
      return null;
    }
    long toFree = payload.length - room;
    if (drainMemory) {
      toFree = Math.max(toFree, 2L * Math.max(payload.length, 1)); // one leaves for this one, one more
    }
    List<MemoryTier.Batch> older = memory.takeOldest(toFree);
    if (older.isEmpty()) {
      return Eviction.NONE;
    }
    return hold(older, Math.max(0, room));
  }

  /** Where a flush stops: batches accepted from now on are not its business. */
  long flushMark() {
    return memory.nextOrdinal();
  }

  /**
   * A flush's next step: the oldest queued batch, with the deliveries out without a twin (older
   * still), if any of them was accepted before {@code mark}; else {@link Eviction#NONE} and the
   * flush is done. One batch at a time, so the write lock is never held across more than one seal.
   */
  Eviction takeForFlush(long mark) {
    List<MemoryTier.Batch> older = memory.takeOldest(1);
    if (older.stream().noneMatch(b -> b.ordinal() < mark)) {
      for (int i = older.size() - 1; i >= 0; i--) {
        memory.putBack(older.get(i));
      }
      return Eviction.NONE;
    }
    return hold(older, 0);
  }

  private Eviction hold(List<MemoryTier.Batch> older, long room) {
    long held = MemoryTier.queuedBytes(older) + room;
    heldBytes += held;
    return new Eviction(older, held);
  }

  /**
   * An eviction's first {@code appended} batches reached disk and count as spilled; the rest go back
   * to the front of the tier (accepted earlier, they must not be lost; a delivery stays recorded
   * as out, so there is nothing to put back for it); the memory held is free again.
   */
  void settleEviction(Eviction e, int appended) {
    heldBytes -= e.heldBytes();
    counters.spilled += appended;
    for (int i = e.batches().size() - 1; i >= appended; i--) {
      memory.putBack(e.batches().get(i));
    }
  }

  /** A memory-origin delivery's twin is about to be appended after {@code lastOnDisk}. */
  void twinAppending(long lastOnDisk) {
    twins.appending(lastOnDisk); // readable before it is registered: hold the reader off it
  }

  /** The twin's append failed. */
  void twinNotAppended() {
    twins.appended();
    waitingForTwin = false;
  }

  /** The twin of memory batch {@code ordinal} (a delivery) is on disk at {@code position}. */
  void twinAppended(long ordinal, long position) {
    twins.appended();
    waitingForTwin = false;
    BatchDelivery current = memory.out(ordinal);
    if (current == null) {
      twins.acknowledged(position); // acknowledged meanwhile: the disk copy is not delivered again
    } else if (redeliver.remove(current)) {
      // Released and waiting: the disk copy delivers it, in order.
      current.settled = true;
      memory.settled(ordinal);
      inFlightBytes -= current.payload.length;
    } else {
      // In the consumer's hands: its ack or release decides what the disk copy does.
      current.sealedTo = position;
      twins.out(position);
    }
  }

  /**
   * A batch appended at {@code position} is readable. Durable mode keeps its plaintext for the
   * reader only if the reader is likely to get there before the cache, oldest first, lets it go:
   * not while it has more unread batches up to this one than the cache holds (counted at this
   * batch's size) or an earlier run's backlog to read first. In an outage every kept plaintext
   * would otherwise live just long enough to be promoted to the old generation and die there, a
   * collection's worth of garbage per cache-full, for nothing.
   */
  void published(long position, byte[] plaintext) {
    // pending() counts this batch too: it was reserved before its append
    if (cacheAppends && !backlog.fromEarlierRun()
        && backlog.pending() * (long) plaintext.length <= readCache.limitBytes()) {
      readCache.put(position, plaintext);
    }
    backlog.published();
  }

  /** Drop-oldest deleted every record {@code gone} names: none of it is outstanding any more. */
  void segmentDropped(LongPredicate gone, long unacknowledged, long unread) {
    ledger.forget(gone);
    redeliver.removeIf(d -> d.fromDisk && gone.test(d.position));
    twins.forget(gone);
    readCache.forget(gone);
    counters.dropped += unacknowledged;
    backlog.dropped(unread);
  }

  // ------------------------------------------------------------------ hand-out

  /** A released delivery to hand out again, first of all; those past {@code tooOld} are dropped. */
  BatchDelivery nextRedelivery(LongPredicate tooOld) {
    for (BatchDelivery again; (again = redeliver.pollFirst()) != null; ) {
      if (!tooOld.test(again.sealedAt)) {
        counters.delivered++;
        return again;
      }
      settle(again);
      counters.dropped++;
    }
    return null;
  }

  /** Whether memory is next in order: it holds a batch and disk holds nothing older. */
  boolean memoryIsNext() {
    return !memory.isEmpty() && !diskHasOlder();
  }

  boolean hasRedeliveries() {
    return !redeliver.isEmpty();
  }

  boolean waitingForTwin() {
    return waitingForTwin;
  }

  /** Hands out the memory tier's oldest batch; the tier is not empty. */
  BatchDelivery handOutFromMemory() {
    MemoryTier.Batch m = memory.poll();
    inFlightBytes += m.payload().length;
    counters.delivered++;
    BatchDelivery d = new BatchDelivery(settler, m.type(), m.payload(), false, m.ordinal(), clock.millis());
    memory.handedOut(d);
    return d;
  }

  /**
   * The engine's say over disk batches it also holds in memory: wait at a batch whose memory twin
   * is with the consumer (or may be a twin not yet registered); skip one acknowledged from memory;
   * hand over the plaintext of this process's own recent append.
   */
  @Override
  public SpillCursor.Verdict admit(long position) {
    if (twins.mustWait(position)) {
      waitingForTwin = true;
      return SpillCursor.Verdict.WAIT;
    }
    if (twins.takeAcknowledged(position)) {
      return SpillCursor.Verdict.SKIP;
    }
    byte[] cached = readCache.take(position);
    return cached != null ? new SpillCursor.Verdict(SpillCursor.Admission.CACHED, cached) : SpillCursor.Verdict.READ;
  }

  @Override
  public void readAgainLater(long position, SpillCursor.Verdict verdict) {
    if (verdict.admission() == SpillCursor.Admission.SKIP) {
      twins.acknowledged(position);
    } else if (verdict.plaintext() != null) {
      readCache.put(position, verdict.plaintext());
    }
  }

  @Override
  public BatchDelivery handOut(PayloadType type, byte[] payload, long position, long sealedAtMillis) {
    inFlightBytes += payload.length;
    counters.delivered++;
    return new BatchDelivery(settler, type, payload, true, position, sealedAtMillis);
  }

  // ------------------------------------------------------------------ ack / release

  void ack(BatchDelivery d) {
    if (d.settled) {
      throw new IllegalStateException("delivery was already acknowledged or released");
    }
    settle(d);
    counters.acked++;
    waitingForTwin = false;
    if (!d.fromDisk && d.sealedTo >= 0) {
      twins.acknowledged(d.sealedTo); // its sealed twin is not delivered again
    }
  }

  void release(BatchDelivery d) {
    if (d.settled) {
      throw new IllegalStateException("delivery was already acknowledged or released");
    }
    waitingForTwin = false;
    if (!d.fromDisk && d.sealedTo >= 0) {
      // Already sealed when the buffer moved to disk: the disk copy delivers it, in order.
      settle(d);
      twins.released(d.sealedTo);
      return;
    }
    // Redelivered ahead of everything else; stays outstanding in the ledger (and on disk) until acked.
    BatchDelivery again = d.copy();
    if (!d.fromDisk) {
      memory.handedOut(again);
    }
    d.settled = true;
    redeliver.addFirst(again);
  }

  /**
   * Marks a delivery done and frees what it held: its bytes, and either its place ahead of the
   * durable position (disk) or its in-flight slot (memory).
   */
  private void settle(BatchDelivery d) {
    d.settled = true;
    inFlightBytes -= d.payload.length;
    if (d.fromDisk) {
      diskAcknowledged.accept(d.position);
    } else {
      memory.settled(d.position);
    }
  }

  // ------------------------------------------------------------------ metrics / purge / close

  BufferMetrics metrics(long diskBytes, long keyRequests, SpillCursor cursor) {
    long oldestAge = EngineCounters.oldestAgeMillis(clock.millis(), ledger.oldestOutstandingSealedAt(),
        backlog.readerBehind(), backlog.oldestUnreadSealedAt());
    return counters.metrics(
        memory.queued() + redeliver.stream().filter(d -> !d.fromDisk).count(),
        memory.queuedBytes() + inFlightBytes,
        diskBytes,
        backlog.pending() + ledger.outstanding(),
        oldestAge,
        keyRequests,
        cursor);
  }

  /** An operator purge deleted {@code diskBatches} batches: everything held is forgotten; returns all lost. */
  long purged(long diskBatches) {
    long lost = diskBatches + memory.clear();
    twins.clear();
    redeliver.clear();
    ledger.clear();
    readCache.clear();
    inFlightBytes = 0;
    backlog.clear();
    counters.dropped += lost;
    return lost;
  }

  /**
   * Closes: returns what is left to seal, oldest first: memory-origin deliveries not yet
   * acknowledged (one still in flight may yet be acknowledged: then it is delivered again after
   * restart, at-least-once, never lost), then the memory tier. A delivery with a twin on disk
   * already is not sealed again. Null if already closed.
   */
  List<MemoryTier.Batch> close() {
    if (closed) {
      return null;
    }
    closed = true;
    redeliver.clear();
    return memory.takeAllForClose();
  }
}
