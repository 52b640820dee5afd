package dev.spillway.core;

/**
 * What disk holds that the reader has not delivered yet, as far as this process knows: batches an
 * earlier run left, batches this process appended and the reader has not read, batches being
 * opened, and appends under way. From it the engine decides whether disk holds anything older
 * than the memory tier (then poll reads disk first) and whether the reader is behind (an outage).
 *
 * <p>Each batch this process appends is counted {@link #reserve reserved} before the append makes
 * it readable, so a reader can never count it down first: a count lowered before it was raised,
 * and clamped at zero, would stay one too high for ever, and poll would never wait again. A batch
 * read moves from unread to {@link #opening} until the engine knows what it is (a delivery, a
 * skip, a quarantine), so the pending count never dips while a record is being opened.
 *
 * <p>Knows nothing of files or threads: the engine calls it under its {@code state} lock.
 */
final class DiskBacklog {
  /** Segments an earlier run left, not yet read through: older than anything offered now. */
  private boolean fromEarlierRun;
  /** Batches appended by this process (or being appended) and not yet read. */
  private long unread;
  /** Batches read and admitted, not yet delivered, skipped or quarantined. */
  private long opening;
  /** Offers and seals holding the write lock to append. */
  private int appendsUnderWay;
  /** Raised after every append: a reader that saw no change since its read began may wait. */
  private long appendsPublished;
  /** When the oldest batch not yet delivered was sealed, while any is unread. */
  private long oldestUnreadSealedAt;

  DiskBacklog(boolean fromEarlierRun) {
    this.fromEarlierRun = fromEarlierRun;
  }

  /** An offer or seal is about to append (it holds the write lock). */
  void appendStarting() {
    appendsUnderWay++;
  }

  void appendEnded() {
    appendsUnderWay--;
  }

  /** A batch sealed at {@code sealedAtMillis} is about to become readable. */
  void reserve(long sealedAtMillis) {
    if (unread == 0 && !fromEarlierRun) {
      oldestUnreadSealedAt = sealedAtMillis;
    }
    unread++;
  }

  /** The append reserved for did not happen. */
  void unreserve() {
    unread = Math.max(0, unread - 1);
  }

  /** An append has made its batch readable. */
  void published() {
    appendsPublished++;
  }

  /** How many appends have been published: a reader compares it before and after a read. */
  long publishedCount() {
    return appendsPublished;
  }

  /** The reader took a batch to open it. */
  void admitted() {
    if (unread > 0) {
      unread--;
    }
    opening++;
  }

  /** An admitted batch could not be opened now: it is unread again. */
  void readAgainLater() {
    opening = Math.max(0, opening - 1);
    unread++;
  }

  /** An admitted batch sealed at {@code sealedAtMillis} is settled: delivered, skipped or quarantined. */
  void opened(long sealedAtMillis) {
    opening = Math.max(0, opening - 1);
    if (sealedAtMillis > 0) {
      oldestUnreadSealedAt = sealedAtMillis;
    }
  }

  /** The reader reached the end: whatever an earlier run left has been read. */
  void caughtUp() {
    fromEarlierRun = false;
  }

  /** {@code batches} unread batches were deleted with their segment (drop-oldest). */
  void dropped(long batches) {
    unread = Math.max(0, unread - batches);
  }

  /** The spill was purged: nothing is unread any more. */
  void clear() {
    unread = 0;
    opening = 0;
    fromEarlierRun = false;
  }

  /** Whether disk holds, or is about to hold, batches older than the memory tier's. */
  boolean hasOlder() {
    return readerBehind() || appendsUnderWay > 0;
  }

  /** Whether segments an earlier run left have not been read through yet. */
  boolean fromEarlierRun() {
    return fromEarlierRun;
  }

  /** Whether the reader has batches to read: an earlier run's, or this run's appends. */
  boolean readerBehind() {
    return fromEarlierRun || unread > 0;
  }

  /** Batches appended and not yet handed to the ledger (unread, or being opened). */
  long pending() {
    return unread + opening;
  }

  /** When the oldest batch not yet read was sealed; meaningful while {@link #readerBehind}. */
  long oldestUnreadSealedAt() {
    return oldestUnreadSealedAt;
  }
}
