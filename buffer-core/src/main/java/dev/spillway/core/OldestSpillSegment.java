package dev.spillway.core;

import dev.spillway.core.internal.seal.EnvelopeFormat;
import dev.spillway.core.internal.spill.SpillLog;
import dev.spillway.core.internal.spill.SpillStorageException;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drop-oldest's victim: deletes the oldest spill segment and counts the batches lost with it
 * (those not yet acknowledged, and of those, the ones not yet read).
 *
 * <p>Runs on the offering thread under the engine's {@code writeLock} (the {@link SpillAppender}
 * calls it through the {@link DiskBudget}) and never takes {@code readLock}: the reader may be
 * inside a key-provider call for seconds, and offers must not wait for it. What only the reader may
 * touch (its position, the opener's keys) the cursor applies itself at its next read ({@link
 * SpillCursor#segmentsDropped}). It takes no engine lock itself: what the engine holds of the
 * segment it forgets through {@link Engine}, whose calls take the engine's {@code state} lock.
 */
final class OldestSpillSegment implements DiskBudget.OldestSegment {
  private static final Logger LOG = LoggerFactory.getLogger(OldestSpillSegment.class);

  /** What the engine holds of the spill. Each call takes the engine's state lock briefly. */
  interface Engine {
    /** The log's committed position. */
    long committedPosition();

    /** Where the reader stands, or a negative number when it has not read yet. */
    long readPosition();

    /**
     * Every record up to and including {@code segment} is gone: forget it, count {@code
     * unacknowledged} batches as dropped, {@code unread} of them as no longer unread.
     */
    void segmentDropped(long segment, long unacknowledged, long unread);
  }

  private final SpillLog log;
  private final SpillAppender appender;
  /** Null in a buffer built without reader keys. */
  private final SpillCursor cursor;
  private final Clock clock;
  private final Engine engine;

  OldestSpillSegment(SpillLog log, SpillAppender appender, SpillCursor cursor, Clock clock, Engine engine) {
    this.log = log;
    this.appender = appender;
    this.cursor = cursor;
    this.clock = clock;
    this.engine = engine;
  }

  @Override
  public boolean canDrop() {
    return appender.canDropOldest();
  }

  /** Deletes the oldest segment and counts its unacknowledged batches. Caller holds writeLock. */
  @Override
  public void drop() {
    long now = clock.millis();
    List<Long> segments = log.segments();
    if (segments.isEmpty()) {
      return;
    }
    long oldest = segments.get(0);
    if (oldest >= log.appendSegment()) {
      appender.roll(now);
    }
    long committed = engine.committedPosition();
    long unreadFrom = engine.readPosition();
    long[] lost = new long[2]; // [0] not acknowledged, [1] of those, not yet read
    log.scanSegment(
        oldest,
        e -> {
          if (e.position() >= committed && EnvelopeFormat.looksLikeBatch(e.bytes())) {
            lost[0]++;
            if (unreadFrom < 0 || e.position() >= unreadFrom) {
              lost[1]++;
            }
          }
        });
    try {
      log.deleteSegment(oldest);
    } catch (SpillStorageException e) {
      LOG.warn("drop-oldest could not delete a segment: {}", e.getMessage());
      return;
    }
    if (cursor != null) {
      cursor.segmentsDropped(oldest); // the cursor forgets their keys and repositions at its next read
    }
    engine.segmentDropped(oldest, lost[0], lost[1]);
    LOG.warn("disk budget spent: dropped the oldest spill segment ({} batches)", lost[0]);
  }
}
