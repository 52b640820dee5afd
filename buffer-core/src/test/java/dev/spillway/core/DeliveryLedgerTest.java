package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The delivery ledger alone: no disk, no keys, no threads. */
class DeliveryLedgerTest {
  final DeliveryLedger ledger = new DeliveryLedger();

  @Test
  void commitPosition_severalOutAckedOutOfOrder_movesOnlyPastTheAcknowledgedPrefix() {
    ledger.delivered(10, 1);
    ledger.delivered(11, 1);
    ledger.delivered(12, 1);
    ledger.readUpTo(13);
    assertThat(ledger.commitPosition()).isEqualTo(10);
    assertThat(ledger.ack(12)).isTrue();
    assertThat(ledger.ack(11)).isTrue();
    assertThat(ledger.commitPosition()).as("10 is still out").isEqualTo(10);
    assertThat(ledger.ack(10)).isTrue();
    assertThat(ledger.commitPosition()).isEqualTo(13);
    assertThat(ledger.outstanding()).isZero();
  }

  @Test
  void ack_twice_secondIsRefusedAndChangesNothing() {
    ledger.delivered(5, 1);
    ledger.delivered(6, 1);
    ledger.readUpTo(7);
    assertThat(ledger.ack(6)).isTrue();
    assertThat(ledger.ack(6)).isFalse();
    assertThat(ledger.commitPosition()).isEqualTo(5);
    assertThat(ledger.outstanding()).isEqualTo(1);
  }

  @Test
  void release_afterAck_isNotOutstandingAndIsNotRedelivered() {
    ledger.delivered(5, 1);
    ledger.readUpTo(6);
    assertThat(ledger.isOutstanding(5)).isTrue(); // a release before the ack keeps it so
    assertThat(ledger.ack(5)).isTrue();
    assertThat(ledger.isOutstanding(5)).as("a release after the ack finds nothing to redeliver").isFalse();
    assertThat(ledger.commitPosition()).isEqualTo(6);
  }

  @Test
  void ack_ofADroppedSegment_isIgnoredAndTheCommitNeverGoesBack() {
    long segment = 1L << 32; // positions of segment 1 and 2, as Chronicle numbers them
    ledger.delivered(segment + 1, 1);
    ledger.delivered(segment + 2, 1);
    ledger.delivered(2 * segment + 1, 1);
    ledger.readUpTo(2 * segment + 2);
    ledger.forget(p -> (p >>> 32) <= 1); // drop-oldest deleted segment 1
    assertThat(ledger.commitPosition()).isEqualTo(2 * segment + 1);
    assertThat(ledger.ack(segment + 1)).as("its segment is gone").isFalse();
    assertThat(ledger.commitPosition()).isEqualTo(2 * segment + 1);
    assertThat(ledger.ack(2 * segment + 1)).isTrue();
    assertThat(ledger.commitPosition()).isEqualTo(2 * segment + 2);
  }

  @Test
  void skipped_positionsNeedNoAck_theCommitMovesPastThem() {
    ledger.skipped(3); // quarantined
    ledger.delivered(4, 1);
    ledger.skipped(5); // too old
    ledger.readUpTo(6);
    assertThat(ledger.commitPosition()).isEqualTo(4);
    ledger.ack(4);
    assertThat(ledger.commitPosition()).isEqualTo(6);
  }

  @Test
  void oldestOutstandingSealedAt_isTheFirstUnacknowledged() {
    ledger.delivered(1, 100);
    ledger.delivered(2, 200);
    assertThat(ledger.oldestOutstandingSealedAt()).isEqualTo(100);
    ledger.ack(1);
    assertThat(ledger.oldestOutstandingSealedAt()).isEqualTo(200);
    ledger.ack(2);
    assertThat(ledger.oldestOutstandingSealedAt()).isZero();
  }

  @Test
  void commitPosition_nothingRead_isMinusOne() {
    assertThat(ledger.commitPosition()).isEqualTo(-1);
  }
}
