package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The twin bookkeeping on its own: wait while the memory copy is out, skip once acknowledged. */
class DiskTwinsTest {
  @Test
  void whileATwinIsBeingAppended_everythingAfterWhatWasOnDiskIsHeld() {
    DiskTwins t = new DiskTwins();
    t.appending(10);
    assertThat(t.mustWait(10)).isFalse();
    assertThat(t.mustWait(11)).isTrue();
    t.appended();
    assertThat(t.mustWait(11)).isFalse();
  }

  @Test
  void memoryCopyOut_readerWaits_thenAcknowledged_diskCopySkippedOnce() {
    DiskTwins t = new DiskTwins();
    t.out(12);
    assertThat(t.mustWait(12)).isTrue();
    t.acknowledged(12);
    assertThat(t.mustWait(12)).isFalse();
    assertThat(t.takeAcknowledged(12)).isTrue();
    assertThat(t.takeAcknowledged(12)).as("skipped once, then forgotten").isFalse();
  }

  @Test
  void memoryCopyReleased_diskCopyDeliversIt() {
    DiskTwins t = new DiskTwins();
    t.out(12);
    t.released(12);
    assertThat(t.mustWait(12)).isFalse();
    assertThat(t.takeAcknowledged(12)).isFalse();
  }

  @Test
  void droppedSegment_forgetsItsTwinsInBothStates() {
    DiskTwins t = new DiskTwins();
    t.out(5);
    t.acknowledged(6);
    t.out(50);
    t.forget(p -> p < 10);
    assertThat(t.mustWait(5)).isFalse();
    assertThat(t.takeAcknowledged(6)).isFalse();
    assertThat(t.mustWait(50)).isTrue();
  }
}
