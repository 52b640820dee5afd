package dev.spillway.core;

import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.internal.seal.EnvelopeException;
import dev.spillway.core.internal.seal.EnvelopeFormat;
import dev.spillway.core.internal.seal.EpochId;
import dev.spillway.core.internal.seal.KeyRecord;
import dev.spillway.core.internal.seal.OpenedBatch;
import dev.spillway.core.internal.seal.Opener;
import dev.spillway.core.internal.seal.SealedRecord;
import dev.spillway.core.internal.spill.QuarantineFile;
import dev.spillway.core.internal.spill.SpillLog;
import dev.spillway.core.internal.spill.SpillStorageException;
import dev.spillway.core.internal.spill.UnreadableSpillException;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read side of the spill: reads records in order, opens (authenticates) every sealed batch
 * before anything uses its header, quarantines what does not open, steps past torn tails and
 * unreadable segments, and owns the replay watermarks through the {@link Committer}. It hands the
 * engine one {@link Step} per record; what becomes a delivery is the engine's business.
 *
 * <p>Not thread-safe: the engine calls it under its read lock. The counters may be read from any
 * thread. The one call from the writer side, {@link #segmentsDropped}, only records a number that
 * the cursor applies at its next read.
 */
final class SpillCursor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SpillCursor.class);
  /** A reader that cannot reach its key provider waits this long before trying again. */
  static final Duration KEY_RETRY_BACKOFF = Duration.ofSeconds(1);

  /** What the engine says about a sealed batch before it is opened. */
  enum Admission {
    /** Open it and deliver it. */
    READ,
    /** Open it only to authenticate: the engine holds its plaintext ({@link Verdict#plaintext}). */
    CACHED,
    /** Open it only to authenticate: it was delivered and acknowledged from memory already. */
    SKIP,
    /** Not now: its copy in memory is still with the consumer. The cursor stays at it. */
    WAIT
  }

  /** An admission, and for {@link Admission#CACHED} the plaintext the engine already has. */
  record Verdict(Admission admission, byte[] plaintext) {
    static final Verdict READ = new Verdict(Admission.READ, null);
    static final Verdict SKIP = new Verdict(Admission.SKIP, null);
    static final Verdict WAIT = new Verdict(Admission.WAIT, null);
  }

  /** The engine's say over the batches it also knows from memory. Called under the engine's state lock. */
  interface Gate {
    Verdict admit(long position);

    /**
     * An admitted batch could not be opened now (key provider unavailable): it is read again
     * later, and the verdict given is to stand then too.
     */
    void readAgainLater(long position, Verdict verdict);
  }

  enum Kind {
    /** Nothing more to read now. */
    CAUGHT_UP,
    /** A key record, or a batch committed before the restart: nothing for the engine. */
    CONSUMED,
    /** Quarantined: it needs no delivery, but the commit must move past it. */
    QUARANTINED,
    /** Stopped at a record until a cause clears (its memory twin, the key provider): do not read again at once. */
    WAITING,
    /** An authenticated batch. */
    OPENED
  }

  /** One record's outcome. For OPENED: its header, the opened batch (payload null unless READ) and the verdict. */
  record Step(Kind kind, long position, SealedRecord record, OpenedBatch batch, Verdict verdict) {
    static final Step CAUGHT_UP = new Step(Kind.CAUGHT_UP, -1, null, null, null);
    static final Step CONSUMED = new Step(Kind.CONSUMED, -1, null, null, null);
    static final Step WAITING = new Step(Kind.WAITING, -1, null, null, null);
  }

  private final SpillLog log;
  private final QuarantineFile quarantine;
  private final Committer committer;
  private final DataKeyUnwrapper unwrapper;
  private final DeploymentId deployment;
  private final String queueName;
  private final BufferObserver observer;
  private final java.time.Clock clock;

  private Opener opener;
  private boolean positioned;
  private long skipBelow = -1;
  /** The last segment found unreadable (counted once), or -1. */
  private long unreadableSegment = -1;
  /** The clock's millis before which the key provider is not tried again (0: none). */
  private volatile long keyRetryAtMillis;
  private final Map<EpochId, Long> epochLastSegment = new HashMap<>();
  /** The newest segment drop-oldest deleted whose keys the reader has not forgotten yet, or -1. */
  private final AtomicLong droppedThroughSegment = new AtomicLong(-1);

  private volatile long quarantined;
  private volatile long torn;
  private volatile long missing;
  private volatile long unreadable;

  SpillCursor(SpillLog log, QuarantineFile quarantine, Committer committer, DataKeyUnwrapper unwrapper,
      DeploymentId deployment, String queueName, BufferObserver observer, java.time.Clock clock) {
    this.clock = clock;
    this.log = log;
    this.quarantine = quarantine;
    this.committer = committer;
    this.unwrapper = unwrapper;
    this.deployment = deployment;
    this.queueName = queueName;
    this.observer = observer;
    this.opener = newOpener();
  }

  /** An opener that refuses records at or below the committed watermarks (replays). */
  private Opener newOpener() {
    return new Opener(unwrapper, deployment, queueName, Opener.DEFAULT_MAX_CACHED_KEYS, committer.baseline().marks());
  }

  /**
   * Reads the next record.
   *
   * @param lookPastEnd at the end of a segment, look for a later one now (a torn tail, or backlog
   *     after a restart) rather than report caught up; it lists the directory, so not on every call
   */
  Step next(Gate gate, boolean lookPastEnd) {
    applySegmentDrops();
    if (!positioned) {
      position();
    }
    SpillLog.Entry e;
    try {
      e = log.next();
      if (e == null && lookPastEnd) {
        e = pastTornTail();
      }
    } catch (UnreadableSpillException ex) {
      return pastUnreadable(ex) ? Step.CONSUMED : Step.WAITING;
    }
    if (e == null) {
      return Step.CAUGHT_UP;
    }
    return handle(e, gate);
  }

  private Step handle(SpillLog.Entry e, Gate gate) {
    EnvelopeFormat.Envelope env;
    try {
      env = EnvelopeFormat.parse(e.bytes());
    } catch (EnvelopeException ex) {
      quarantine(e, ex);
      return new Step(Kind.QUARANTINED, e.position(), null, null, null);
    }
    if (env instanceof KeyRecord k) {
      opener.accept(k);
      epochLastSegment.put(k.epochId(), e.segment());
      return Step.CONSUMED;
    }
    SealedRecord r = (SealedRecord) env;
    if (e.position() < skipBelow) {
      return Step.CONSUMED; // committed before the restart: its sequence is in the watermarks already
    }
    Verdict verdict = gate.admit(e.position());
    if (verdict.admission() == Admission.WAIT) {
      log.seek(e.position());
      return Step.WAITING;
    }
    // Every record is authenticated, and its sequence checked against the watermarks, before
    // anything acts on its header: also one whose plaintext the engine holds (its own append, or
    // a memory twin already acknowledged), since the bytes on disk may have been replaced since.
    // Only a record that opens moves its stream's watermark.
    OpenedBatch opened;
    long start = System.nanoTime();
    try {
      opened = opener.open(r, verdict.admission() == Admission.READ);
      observer.onKeyProviderCall("open", System.nanoTime() - start, true);
    } catch (EnvelopeException ex) {
      quarantine(e, ex);
      return new Step(Kind.QUARANTINED, e.position(), r, null, verdict);
    } catch (KeyUnavailableException ex) {
      observer.onKeyProviderCall("unwrap", System.nanoTime() - start, false);
      LOG.warn("key provider unavailable; spilled records stay on disk and are retried: {}", ex.getMessage());
      log.seek(e.position());
      gate.readAgainLater(e.position(), verdict);
      keyRetryAtMillis = clock.millis() + KEY_RETRY_BACKOFF.toMillis();
      return Step.WAITING;
    }
    committer.opened(e.position(), r);
    epochLastSegment.merge(r.epochId(), e.segment(), Math::max);
    if (opened.missingBefore() > 0) {
      missing += opened.missingBefore();
      LOG.warn("{} record(s) of writer stream {} are missing before #{} at spill position {} (deleted from the"
          + " spill, or dropped by the overflow policy)", opened.missingBefore(),
          r.epochId().toString().substring(0, 32), r.sequence(), e.position());
    }
    return new Step(Kind.OPENED, e.position(), r, opened, verdict);
  }

  private void quarantine(SpillLog.Entry e, EnvelopeException ex) {
    LOG.warn("quarantined spill record at position {} ({}): {}", e.position(), ex.reason(), ex.getMessage());
    try {
      quarantine.add(e.position(), ex.reason(), ex.getMessage(), e.bytes());
    } catch (IOException io) {
      LOG.error("could not write the quarantine file; the record is skipped: {}", io.getMessage());
    }
    observer.onQuarantine(ex.reason());
    quarantined++;
  }

  /** Puts the reader at the committed baseline: everything before it is acknowledged and in its watermarks. */
  private void position() {
    Committer.Baseline base = committer.baseline();
    long committed = base.position();
    if (committed < 0) {
      log.seek(-1);
      skipBelow = -1;
    } else {
      log.seekToSegmentStart(log.segmentOf(committed)); // that segment's key records are read again
      skipBelow = committed;
    }
    opener.resetSequenceTracking(base.marks());
    positioned = true;
  }

  boolean positioned() {
    return positioned;
  }

  /** Where the next read starts (after the last record read). */
  long readPosition() {
    return log.readPosition();
  }

  /** Everything before {@code position} is acknowledged: the committer persists it. */
  void commit(long position) {
    committer.request(position);
  }

  /**
   * Drop-oldest deleted every segment up to {@code segment} (called on the writer side, without
   * the read lock): the cursor forgets their keys and repositions at its next read.
   */
  void segmentsDropped(long segment) {
    droppedThroughSegment.accumulateAndGet(segment, Math::max);
  }

  private void applySegmentDrops() {
    long through = droppedThroughSegment.getAndSet(-1);
    if (through >= 0) {
      forgetEpochsUpTo(through);
      positioned = false;
    }
  }

  /** Deletes segments that are fully acknowledged and no longer written; forgets their keys. */
  void deleteDrainedSegments() {
    long committed = log.committed();
    if (committed < 0) {
      return;
    }
    long committedSegment = log.segmentOf(committed);
    long appendSegment = log.appendSegment();
    for (Long s : log.segments()) {
      if (s >= committedSegment || s >= appendSegment) {
        break;
      }
      try {
        log.deleteSegment(s);
        forgetEpochsUpTo(s);
      } catch (SpillStorageException | IllegalStateException ex) {
        LOG.warn("could not delete drained spill segment {}: {}", s, ex.getMessage());
        return;
      }
    }
  }

  /** Crypto-shredding: wrapped keys whose every record is gone are dropped from memory. */
  private void forgetEpochsUpTo(long segment) {
    Iterator<Map.Entry<EpochId, Long>> it = epochLastSegment.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<EpochId, Long> en = it.next();
      if (en.getValue() <= segment) {
        opener.forget(en.getKey());
        it.remove();
      }
    }
  }

  /**
   * An operator purge emptied the spill: keys forgotten, the position back to the start; the
   * watermarks stay (copies of purged records are still replays).
   */
  void reset() throws IOException {
    epochLastSegment.keySet().forEach(opener::forget);
    epochLastSegment.clear();
    committer.reset();
    opener = newOpener();
    positioned = false;
  }

  /** Nanoseconds until the key provider may be tried again; 0 or less when it may. */
  long nanosUntilKeyRetry() {
    return java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(keyRetryAtMillis - clock.millis());
  }

  /**
   * A writer killed mid-append leaves a record Chronicle will never complete, at the end of its
   * last segment. Once a later segment exists and the reader still finds nothing, the rest of the
   * current segment is that torn record: the reader moves to the later segment and counts it.
   * Every complete record of the segment was already read, so nothing is skipped but the torn one.
   */
  private SpillLog.Entry pastTornTail() {
    long current = log.segmentOf(log.readPosition());
    Long later = laterSegment(current);
    if (later == null) {
      return null;
    }
    SpillLog.Entry e = log.next();
    if (e != null) {
      return e; // the writer had only just rolled: not torn
    }
    LOG.warn("spill segment {} ends in a record torn by a crash; skipping to segment {}", current, later);
    log.seekToSegmentStart(later);
    torn++;
    return log.next();
  }

  /**
   * The log failed to read at the reader's place (an edited or damaged segment). Counts it once
   * per segment and moves to the next segment if there is one; the records skipped show as
   * sequence gaps when their streams go on.
   *
   * @return whether the reader moved to a later segment
   */
  private boolean pastUnreadable(UnreadableSpillException ex) {
    long current = log.segmentOf(log.readPosition());
    if (current != unreadableSegment) {
      unreadableSegment = current;
      LOG.warn("spill segment {} cannot be read on from here (damaged or edited); the rest of it is skipped: {}",
          current, ex.getMessage());
      unreadable++;
    }
    Long later = laterSegment(current);
    if (later == null) {
      return false;
    }
    log.seekToSegmentStart(later);
    return true;
  }

  private Long laterSegment(long current) {
    for (Long s : log.segments()) {
      if (s > current) {
        return s;
      }
    }
    return null;
  }

  long quarantined() {
    return quarantined;
  }

  long torn() {
    return torn;
  }

  long missing() {
    return missing;
  }

  long unreadable() {
    return unreadable;
  }

  long metadataRecordsSkipped() {
    return log.metadataRecordsSkipped();
  }

  /** Writes the last requested commit; call before the log closes. */
  @Override
  public void close() {
    committer.close();
  }
}
