package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The memory tier on its own: offer order kept across the queue and the deliveries out. */
class MemoryTierTest {
  private static byte[] bytes(int n) {
    return new byte[n];
  }

  private static BatchDelivery handOut(MemoryTier t) {
    MemoryTier.Batch b = t.poll();
    BatchDelivery d = new BatchDelivery(null, b.type(), b.payload(), false, b.ordinal(), 0);
    t.handedOut(d);
    return d;
  }

  @Test
  void takeForDisk_deliveriesOutWithoutATwinAndTheQueue_oldestFirst() {
    MemoryTier t = new MemoryTier();
    for (int i = 0; i < 4; i++) {
      t.add(PayloadType.OTLP_TRACES, bytes(10 + i));
    }
    BatchDelivery first = handOut(t); // ordinal 0, with the consumer
    BatchDelivery second = handOut(t); // ordinal 1, its twin already on disk
    second.sealedTo = 99;
    assertThat(t.queuedBytes()).isEqualTo(12 + 13);

    List<MemoryTier.Batch> older = t.takeForDisk();
    assertThat(older).extracting(MemoryTier.Batch::ordinal).containsExactly(0L, 2L, 3L);
    assertThat(older).extracting(MemoryTier.Batch::delivery).containsExactly(true, false, false);
    assertThat(t.queued()).isZero();
    assertThat(t.queuedBytes()).isZero();
    assertThat(t.out(0)).as("a delivery stays out until it settles").isSameAs(first);
    t.settled(0);
    assertThat(t.out(0)).isNull();
  }

  @Test
  void takeOldest_justEnoughForTheRoomAsked_afterTheDeliveriesOutWithoutATwin() {
    MemoryTier t = new MemoryTier();
    for (int i = 0; i < 5; i++) {
      t.add(PayloadType.OTLP_TRACES, bytes(100));
    }
    BatchDelivery zero = handOut(t); // with the consumer: older than anything queued
    assertThat(t.takeOldest(0)).as("no room needed: nothing taken").isEmpty();
    List<MemoryTier.Batch> taken = t.takeOldest(150);
    assertThat(taken).extracting(MemoryTier.Batch::ordinal).containsExactly(0L, 1L, 2L);
    assertThat(taken).extracting(MemoryTier.Batch::delivery).containsExactly(true, false, false);
    assertThat(MemoryTier.queuedBytes(taken)).as("only queued batches free room").isEqualTo(200);
    assertThat(t.queuedBytes()).isEqualTo(200);
    assertThat(t.out(0)).as("a delivery stays out until it settles").isSameAs(zero);
    zero.sealedTo = 7; // its twin is on disk now
    List<MemoryTier.Batch> rest = t.takeOldest(10_000); // more than it holds: all
    assertThat(rest).extracting(MemoryTier.Batch::ordinal).containsExactly(3L, 4L);
    assertThat(t.isEmpty()).isTrue();
    zero.sealedTo = -1; // as if its twin had not been written: an empty queue still yields it
    assertThat(t.takeOldest(1)).extracting(MemoryTier.Batch::ordinal).containsExactly(0L);
  }

  @Test
  void putBack_newestFirst_restoresOrder_deliveriesAreNotQueuedAgain() {
    MemoryTier t = new MemoryTier();
    for (int i = 0; i < 3; i++) {
      t.add(PayloadType.OTLP_TRACES, bytes(10));
    }
    handOut(t);
    List<MemoryTier.Batch> older = t.takeForDisk(); // 0 (delivery), 1, 2
    for (int i = older.size() - 1; i >= 1; i--) { // none reached disk but the first
      t.putBack(older.get(i));
    }
    t.putBack(older.get(0)); // a delivery: stays out, not queued
    assertThat(t.poll().ordinal()).isEqualTo(1);
    assertThat(t.poll().ordinal()).isEqualTo(2);
    assertThat(t.poll()).isNull();
  }

  @Test
  void close_takesEverything_andPurgeCountsWhatIsLost() {
    MemoryTier t = new MemoryTier();
    t.add(PayloadType.OTLP_TRACES, bytes(1));
    t.add(PayloadType.OTLP_TRACES, bytes(1));
    handOut(t);
    assertThat(t.takeAllForClose()).hasSize(2);
    assertThat(t.out(0)).isNull();

    t.add(PayloadType.OTLP_TRACES, bytes(1));
    handOut(t);
    t.add(PayloadType.OTLP_TRACES, bytes(1));
    assertThat(t.clear()).isEqualTo(2);
    assertThat(t.isEmpty()).isTrue();
  }
}
