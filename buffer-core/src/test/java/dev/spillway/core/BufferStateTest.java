package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rules of the tiers without a disk, a lock or a thread: where a batch goes when memory is
 * full, what the room made for it is held against, how a memory delivery and its disk twin settle
 * each other, what a release, an ack and a drop-oldest do. The engine around these steps (locks,
 * appends, reads, waiting) is tested in {@link SpillBufferTest} and the crash and stall tests.
 */
class BufferStateTest {
  private static final int LIMIT = 1_000;
  private final List<Long> diskAcks = new ArrayList<>();
  private BufferState held;

  /** Acks and releases go straight to the state, as the engine's do under its lock. */
  private final BatchDelivery.Settler settler = new BatchDelivery.Settler() {
    @Override
    public void ack(BatchDelivery d) {
      held.ack(d);
    }

    @Override
    public void release(BatchDelivery d) {
      held.release(d);
    }
  };

  private BufferState state(boolean earlierRunOnDisk) {
    held = new BufferState(settler, LIMIT, false, earlierRunOnDisk, Clock.systemUTC(), diskAcks::add);
    return held;
  }

  private BufferState durableState(boolean earlierRunOnDisk) {
    held = new BufferState(settler, LIMIT, true, earlierRunOnDisk, Clock.systemUTC(), diskAcks::add);
    return held;
  }

  private static byte[] batch(int id, int size) {
    byte[] b = new byte[size];
    b[0] = (byte) id;
    return b;
  }

  private static List<Integer> ids(BufferState.Eviction e) {
    return e.batches().stream().map(m -> (int) m.payload()[0]).toList();
  }

  @Test
  void memoryTakes_roomAndNothingOlderOnDisk_only() {
    BufferState s = state(false);
    assertThat(s.memoryTakes(LIMIT)).isTrue();
    assertThat(s.memoryTakes(LIMIT + 1)).isFalse();
    s.backlog.appendStarting();
    assertThat(s.memoryTakes(10)).as("an append under way is older than anything offered now").isFalse();
    s.backlog.appendEnded();
    assertThat(s.memoryTakes(10)).isTrue();
  }

  @Test
  void memoryTakes_earlierRunOnDisk_notUntilTheReaderCatchesUp() {
    BufferState s = state(true);
    assertThat(s.memoryTakes(10)).isFalse();
    s.backlog.caughtUp();
    assertThat(s.memoryTakes(10)).isTrue();
  }

  @Test
  void makeRoom_fits_acceptedInMemory() {
    BufferState s = state(false);
    assertThat(s.makeRoom(PayloadType.OTLP_TRACES, batch(1, 400), BufferState.Eviction.NONE, true)).isNull();
    assertThat(s.memoryIsNext()).isTrue();
  }

  @Test
  void makeRoom_memoryFull_takesTheOldestItNeeds_andHoldsTheRoomUntilTheNextRound() {
    BufferState s = state(false);
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(1, 400));
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(2, 400));
    BufferState.Eviction e = s.makeRoom(PayloadType.OTLP_TRACES, batch(3, 400), BufferState.Eviction.NONE, true);
    assertThat(ids(e)).as("only the oldest: one batch frees enough").containsExactly(1);
    assertThat(s.memoryTakes(200))
        .as("the room made for batch 3 (and the batch on its way to disk) is held").isFalse();
    // batch 1 appended: the next round settles it and takes the room in the same step
    assertThat(s.makeRoom(PayloadType.OTLP_TRACES, batch(3, 400), e, false)).isNull();
    assertThat(s.counters.spilled).isEqualTo(1);
    assertThat(s.handOutFromMemory().payload()[0]).isEqualTo((byte) 2);
    assertThat(s.handOutFromMemory().payload()[0]).isEqualTo((byte) 3);
  }

  @Test
  void makeRoom_readerBehind_firstRoundTakesTwoBatchesWorth_soMemoryEmpties() {
    BufferState s = state(false);
    for (int id = 1; id <= 2; id++) {
      s.acceptInMemory(PayloadType.OTLP_TRACES, batch(id, 300));
    }
    s.backlog.reserve(1); // the reader has an unread batch on disk: an outage
    BufferState.Eviction e = s.makeRoom(PayloadType.OTLP_TRACES, batch(3, 300), BufferState.Eviction.NONE, true);
    assertThat(ids(e)).as("two batches' worth although one would make room").containsExactly(1, 2);
  }

  @Test
  void makeRoom_nothingLeftToTake_none_theBatchGoesToDisk() {
    BufferState s = state(false);
    BufferState.Eviction e = s.makeRoom(PayloadType.OTLP_TRACES, batch(1, LIMIT + 1), BufferState.Eviction.NONE, true);
    assertThat(e).isSameAs(BufferState.Eviction.NONE);
  }

  @Test
  void settleEviction_partlyAppended_theRestGoesBackToTheFront_inOrder() {
    BufferState s = state(false);
    for (int id = 1; id <= 3; id++) {
      s.acceptInMemory(PayloadType.OTLP_TRACES, batch(id, 100));
    }
    BufferState.Eviction all = s.makeRoom(PayloadType.OTLP_TRACES, batch(4, LIMIT - 50), BufferState.Eviction.NONE, true);
    assertThat(ids(all)).containsExactly(1, 2, 3);
    s.settleEviction(all, 1); // batch 1 reached disk, then the device refused
    assertThat(s.counters.spilled).isEqualTo(1);
    assertThat(s.handOutFromMemory().payload()[0]).isEqualTo((byte) 2);
    assertThat(s.handOutFromMemory().payload()[0]).isEqualTo((byte) 3);
    assertThat(s.memoryTakes(LIMIT - 200)).as("the held bytes are free again").isTrue();
  }

  @Test
  void takeForFlush_oneBatchAtATime_oldestFirst_stopsAtTheMark() {
    BufferState s = state(false);
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(1, 100));
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(2, 100));
    long mark = s.flushMark();
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(3, 100)); // accepted after the flush began
    BufferState.Eviction first = s.takeForFlush(mark);
    assertThat(ids(first)).containsExactly(1);
    s.settleEviction(first, 1);
    BufferState.Eviction second = s.takeForFlush(mark);
    assertThat(ids(second)).containsExactly(2);
    s.settleEviction(second, 1);
    assertThat(s.takeForFlush(mark)).isSameAs(BufferState.Eviction.NONE);
    assertThat(s.handOutFromMemory().payload()[0]).as("the newer batch stays in memory").isEqualTo((byte) 3);
    assertThat(s.counters.spilled).isEqualTo(2);
  }

  @Test
  void takeForFlush_aDeliveryOutWithoutATwin_goesFirst() {
    BufferState s = state(false);
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(1, 100));
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(2, 100));
    s.handOutFromMemory();
    BufferState.Eviction e = s.takeForFlush(s.flushMark());
    assertThat(ids(e)).containsExactly(1, 2);
    assertThat(e.batches().get(0).delivery()).isTrue();
  }

  @Test
  void twin_outWithTheConsumer_readerWaits_thenAckSkipsIt() {
    BufferState s = state(false);
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(1, 100));
    BatchDelivery d = s.handOutFromMemory();
    BufferState.Eviction e = s.takeForFlush(s.flushMark());
    assertThat(e.batches()).singleElement().satisfies(m -> assertThat(m.delivery()).isTrue());
    s.twinAppending(41);
    assertThat(s.admit(42).admission()).as("readable before it is registered: held").isEqualTo(SpillCursor.Admission.WAIT);
    s.twinAppended(e.batches().get(0).ordinal(), 42);
    assertThat(s.admit(42).admission()).isEqualTo(SpillCursor.Admission.WAIT);
    assertThat(s.waitingForTwin()).isTrue();
    d.ack();
    assertThat(s.waitingForTwin()).isFalse();
    assertThat(s.admit(42).admission()).as("acknowledged from memory: not delivered again").isEqualTo(SpillCursor.Admission.SKIP);
  }

  @Test
  void twin_releasedByTheConsumer_theDiskCopyDeliversIt() {
    BufferState s = state(false);
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(1, 100));
    BatchDelivery d = s.handOutFromMemory();
    BufferState.Eviction e = s.takeForFlush(s.flushMark());
    s.twinAppending(41);
    s.twinAppended(e.batches().get(0).ordinal(), 42);
    d.release();
    assertThat(s.nextRedelivery(sealedAt -> false)).as("not redelivered from memory").isNull();
    assertThat(s.admit(42).admission()).isEqualTo(SpillCursor.Admission.READ);
  }

  @Test
  void twin_releasedBeforeItsTwinWasAppended_theDiskCopyDeliversIt_notTheRedeliveryQueue() {
    BufferState s = state(false);
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(1, 100));
    BatchDelivery d = s.handOutFromMemory();
    BufferState.Eviction e = s.takeForFlush(s.flushMark());
    d.release(); // queued for redelivery from memory
    s.twinAppending(41);
    s.twinAppended(e.batches().get(0).ordinal(), 42);
    assertThat(s.hasRedeliveries()).isFalse();
    assertThat(s.admit(42).admission()).isEqualTo(SpillCursor.Admission.READ);
    assertThat(s.memoryTakes(LIMIT)).as("its in-flight bytes are free").isTrue();
  }

  @Test
  void release_fromMemory_redeliveredFirst_thenAckedOnce() {
    BufferState s = state(false);
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(1, 100));
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(2, 100));
    BatchDelivery first = s.handOutFromMemory();
    first.release();
    BatchDelivery again = s.nextRedelivery(sealedAt -> false);
    assertThat(again.payload()[0]).isEqualTo((byte) 1);
    again.ack();
    assertThatThrownBy(again::ack).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(first::ack).as("the released delivery is settled").isInstanceOf(IllegalStateException.class);
    assertThat(s.counters.acked).isEqualTo(1);
  }

  @Test
  void diskDelivery_ack_commitsThroughTheReader_releaseRedeliversUntilAcked() {
    BufferState s = state(false);
    s.ledger.delivered(7, 1);
    BatchDelivery d = s.handOut(PayloadType.OTLP_TRACES, batch(1, 100), 7, 1);
    d.release();
    BatchDelivery again = s.nextRedelivery(sealedAt -> false);
    assertThat(again.fromDisk()).isTrue();
    assertThat(diskAcks).isEmpty();
    again.ack();
    assertThat(diskAcks).containsExactly(7L);
  }

  @Test
  void nextRedelivery_tooOld_droppedAndCounted() {
    BufferState s = state(false);
    s.handOut(PayloadType.OTLP_TRACES, batch(1, 100), 7, 1).release();
    assertThat(s.nextRedelivery(sealedAt -> true)).isNull();
    assertThat(s.counters.dropped).isEqualTo(1);
    assertThat(diskAcks).as("settled: the commit moves past it").containsExactly(7L);
  }

  @Test
  void segmentDropped_forgetsItsRedeliveriesAndCountsWhatWasLost() {
    BufferState s = state(false);
    s.handOut(PayloadType.OTLP_TRACES, batch(1, 100), 7, 1).release();
    s.handOut(PayloadType.OTLP_TRACES, batch(2, 100), 70, 1).release();
    s.segmentDropped(p -> p < 10, 3, 1);
    BatchDelivery left = s.nextRedelivery(sealedAt -> false);
    assertThat(left.payload()[0]).isEqualTo((byte) 2);
    assertThat(s.nextRedelivery(sealedAt -> false)).isNull();
    assertThat(s.counters.dropped).isEqualTo(3);
  }

  @Test
  void close_returnsDeliveriesOutThenTheTier_oldestFirst_once() {
    BufferState s = state(false);
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(1, 100));
    s.acceptInMemory(PayloadType.OTLP_TRACES, batch(2, 100));
    s.handOutFromMemory();
    List<MemoryTier.Batch> toSeal = s.close();
    assertThat(toSeal).extracting(m -> (int) m.payload()[0]).containsExactly(1, 2);
    assertThat(s.closed()).isTrue();
    assertThat(s.close()).as("closed already").isNull();
  }

  @Test
  void published_durable_readerKeepingUp_theReaderGetsThePlaintextWithoutOpening() {
    BufferState s = durableState(false);
    byte[] plaintext = batch(1, 300);
    s.backlog.reserve(0); // as the engine does before each append
    s.published(10, plaintext);

    SpillCursor.Verdict v = s.admit(10);
    assertThat(v.admission()).isEqualTo(SpillCursor.Admission.CACHED);
    assertThat(v.plaintext()).isSameAs(plaintext);
  }

  @Test
  void published_durable_readerFartherBehindThanTheCacheHolds_notKept_theEarlierOnesStay() {
    BufferState s = durableState(false);
    for (int id = 1; id <= 4; id++) {
      s.backlog.reserve(0);
      s.published(10 * id, batch(id, 300)); // 4 x 300 > LIMIT: the 4th would push the 1st out
    }
    assertThat(s.admit(10).admission()).as("kept, and not pushed out by a later one").isEqualTo(SpillCursor.Admission.CACHED);
    assertThat(s.admit(20).admission()).isEqualTo(SpillCursor.Admission.CACHED);
    assertThat(s.admit(30).admission()).isEqualTo(SpillCursor.Admission.CACHED);
    assertThat(s.admit(40).admission()).as("three unread before it: more than the cache holds").isEqualTo(SpillCursor.Admission.READ);
  }

  @Test
  void published_durable_earlierRunStillToRead_notKept() {
    BufferState s = durableState(true);
    s.backlog.reserve(0);
    s.published(10, batch(1, 100));
    assertThat(s.admit(10).admission()).isEqualTo(SpillCursor.Admission.READ);
  }

  @Test
  void published_memoryFirst_neverKept() {
    BufferState s = state(false);
    s.backlog.reserve(0);
    s.published(10, batch(1, 100));
    assertThat(s.admit(10).admission()).isEqualTo(SpillCursor.Admission.READ);
  }
}
