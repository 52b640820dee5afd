package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EngineCountersTest {

  @Test
  void metrics_eachCounter_landsInItsOwnField() {
    EngineCounters c = new EngineCounters();
    c.offered = 1;
    c.acceptedInMemory = 2;
    c.spilled = 3;
    c.refused = 4;
    c.dropped = 5;
    c.delivered = 6;
    c.acked = 7;
    c.storageFaults = 8;
    c.keyEpochsSeen = 9;

    BufferMetrics m = c.metrics(10, 11, 12, 13, 14, 15, null);

    assertThat(new long[] {m.memoryBatches(), m.memoryBytes(), m.diskBytes(), m.diskRecordsPending(),
        m.oldestRecordAgeMillis(), m.keyRequests()}).containsExactly(10, 11, 12, 13, 14, 15);
    assertThat(new long[] {m.offered(), m.acceptedInMemory(), m.spilled(), m.refused(), m.dropped(),
        m.delivered(), m.acked(), m.storageFaults(), m.keyEpochs()}).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9);
    // without a reader, the read side's counts are zero
    assertThat(new long[] {m.quarantined(), m.torn(), m.missing(), m.metadataRecords(), m.unreadableRecords()})
        .containsOnly(0);
  }

  @Test
  void oldestAgeMillis_outstandingDelivery_winsOverUnread() {
    assertThat(EngineCounters.oldestAgeMillis(1_000, 400, true, 100)).isEqualTo(600);
  }

  @Test
  void oldestAgeMillis_nothingOutstanding_usesOldestUnreadWhileDiskHoldsUnread() {
    assertThat(EngineCounters.oldestAgeMillis(1_000, 0, true, 100)).isEqualTo(900);
    assertThat(EngineCounters.oldestAgeMillis(1_000, 0, false, 100)).isZero();
    assertThat(EngineCounters.oldestAgeMillis(1_000, 0, true, 0)).isZero();
  }

  @Test
  void oldestAgeMillis_clockBehindSealedAt_isZeroNotNegative() {
    assertThat(EngineCounters.oldestAgeMillis(1_000, 2_000, false, 0)).isZero();
  }
}
