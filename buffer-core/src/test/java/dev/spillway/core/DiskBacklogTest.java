package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The unread-disk bookkeeping on its own: no files, no threads, no engine. */
class DiskBacklogTest {

  @Test
  void fresh_noEarlierRun_nothingOlderOnDisk() {
    DiskBacklog b = new DiskBacklog(false);
    assertThat(b.hasOlder()).isFalse();
    assertThat(b.readerBehind()).isFalse();
    assertThat(b.pending()).isZero();
  }

  @Test
  void earlierRunsSegments_olderUntilTheReaderCatchesUp() {
    DiskBacklog b = new DiskBacklog(true);
    assertThat(b.hasOlder()).isTrue();
    assertThat(b.readerBehind()).isTrue();
    assertThat(b.fromEarlierRun()).isTrue();
    b.caughtUp();
    assertThat(b.hasOlder()).isFalse();
    assertThat(b.fromEarlierRun()).isFalse();
  }

  @Test
  void appendUnderWay_diskHasOlder_butTheReaderIsNotBehind() {
    DiskBacklog b = new DiskBacklog(false);
    b.appendStarting();
    assertThat(b.hasOlder()).as("an offer holding the write lock appends before memory may take more").isTrue();
    assertThat(b.readerBehind()).isFalse();
    b.appendEnded();
    assertThat(b.hasOlder()).isFalse();
  }

  @Test
  void pending_staysCountedWhileABatchIsBeingOpened_untilItIsSettled() {
    DiskBacklog b = new DiskBacklog(false);
    b.reserve(1_000);
    b.published();
    assertThat(b.pending()).isEqualTo(1);
    b.admitted();
    assertThat(b.pending()).as("being opened: the pending gauge must not dip").isEqualTo(1);
    assertThat(b.readerBehind()).isFalse();
    b.opened(1_000);
    assertThat(b.pending()).isZero();
  }

  @Test
  void readAgainLater_theBatchIsUnreadAgain() {
    DiskBacklog b = new DiskBacklog(false);
    b.reserve(1_000);
    b.admitted();
    b.readAgainLater(); // the key provider was down
    assertThat(b.pending()).isEqualTo(1);
    assertThat(b.readerBehind()).isTrue();
    b.admitted();
    b.opened(1_000);
    assertThat(b.pending()).isZero();
    assertThat(b.readerBehind()).isFalse();
  }

  @Test
  void unreserve_anAppendThatFailed_isNotWaitedFor() {
    DiskBacklog b = new DiskBacklog(false);
    b.reserve(1_000);
    b.unreserve();
    assertThat(b.readerBehind()).isFalse();
    assertThat(b.pending()).isZero();
    b.unreserve();
    assertThat(b.pending()).as("never below zero").isZero();
  }

  @Test
  void oldestUnreadSealedAt_isTheFirstReservedWhileNothingIsUnread_thenMovesWithWhatIsOpened() {
    DiskBacklog b = new DiskBacklog(false);
    b.reserve(1_000);
    b.reserve(2_000);
    assertThat(b.oldestUnreadSealedAt()).isEqualTo(1_000);
    b.admitted();
    b.opened(1_000);
    b.admitted();
    b.opened(2_000);
    assertThat(b.oldestUnreadSealedAt()).isEqualTo(2_000);
    b.reserve(3_000);
    assertThat(b.oldestUnreadSealedAt()).isEqualTo(3_000);
  }

  @Test
  void dropped_lowersUnreadByWhatTheSegmentHeld_clampedAtZero() {
    DiskBacklog b = new DiskBacklog(false);
    b.reserve(1);
    b.reserve(2);
    b.reserve(3);
    b.dropped(2);
    assertThat(b.pending()).isEqualTo(1);
    b.dropped(5);
    assertThat(b.pending()).isZero();
    assertThat(b.readerBehind()).isFalse();
  }

  @Test
  void clear_afterAPurge_nothingUnreadOrOlder() {
    DiskBacklog b = new DiskBacklog(true);
    b.reserve(1);
    b.admitted();
    b.reserve(2);
    b.clear();
    assertThat(b.pending()).isZero();
    assertThat(b.hasOlder()).isFalse();
  }
}
