package dev.spillway.core;

/**
 * The engine's counters, and the assembly of {@link BufferMetrics} from them and from what the
 * engine reports of its tiers.
 *
 * <p>Not thread-safe: every field is guarded by the engine's {@code state} lock, as the counters
 * were when they were fields of {@link BufferEngine}; the engine counts and calls {@link #metrics}
 * only while holding it.
 */
final class EngineCounters {
  long offered;
  long acceptedInMemory;
  long spilled;
  long refused;
  long dropped;
  long delivered;
  long acked;
  long storageFaults;
  long keyEpochsSeen;

  /**
   * The age of the oldest batch not yet acknowledged: the oldest outstanding delivery from disk,
   * else the oldest unread append while disk holds unread batches; 0 when there is neither.
   *
   * @param oldestOutstandingSealedAt sealed-at of the oldest outstanding disk delivery, 0 if none
   * @param diskHoldsUnread whether disk holds batches not yet read (this run's or an earlier one's)
   * @param oldestUnreadSealedAt sealed-at of the oldest unread batch, 0 if unknown
   */
  static long oldestAgeMillis(
      long nowMillis, long oldestOutstandingSealedAt, boolean diskHoldsUnread, long oldestUnreadSealedAt) {
    long oldestSealed = Long.MAX_VALUE;
    if (oldestOutstandingSealedAt > 0) {
      oldestSealed = oldestOutstandingSealedAt;
    }
    if (oldestSealed == Long.MAX_VALUE && diskHoldsUnread && oldestUnreadSealedAt > 0) {
      oldestSealed = oldestUnreadSealedAt;
    }
    return oldestSealed == Long.MAX_VALUE ? 0 : Math.max(0, nowMillis - oldestSealed);
  }

  /**
   * These counters with the engine's current figures.
   *
   * @param cursor the read side, for its own counts; null in a buffer built without reader keys
   */
  BufferMetrics metrics(
      long memoryBatches,
      long memoryBytes,
      long diskBytes,
      long diskRecordsPending,
      long oldestAgeMillis,
      long keyRequests,
      SpillCursor cursor) {
    boolean reads = cursor != null;
    return new BufferMetrics(
        memoryBatches,
        memoryBytes,
        diskBytes,
        diskRecordsPending,
        oldestAgeMillis,
        keyEpochsSeen,
        keyRequests,
        offered,
        acceptedInMemory,
        spilled,
        refused,
        dropped,
        delivered,
        acked,
        reads ? cursor.quarantined() : 0,
        reads ? cursor.torn() : 0,
        storageFaults,
        reads ? cursor.missing() : 0,
        reads ? cursor.metadataRecordsSkipped() : 0,
        reads ? cursor.unreadable() : 0);
  }
}
