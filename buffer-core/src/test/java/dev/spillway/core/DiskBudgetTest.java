package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The disk budget on its own, against a device that is a few numbers: refuse, drop-oldest, the
 * free-space guard. No log, no keys, no locks.
 */
class DiskBudgetTest {
  private static final long MIB = 1L << 20;

  /** A spill of segments on a device: what the budget measures, and the oldest segment to drop. */
  private static final class Spill implements DiskBudget.Device, DiskBudget.OldestSegment {
    final Deque<Long> segments = new ArrayDeque<>();
    long free;
    int drops;

    Spill(long free, Long... segmentSizes) {
      this.free = free;
      segments.addAll(List.of(segmentSizes));
    }

    @Override
    public long allocatedBytes() {
      return segments.stream().mapToLong(Long::longValue).sum();
    }

    @Override
    public long usableSpace() {
      return free;
    }

    @Override
    public boolean canDrop() {
      return segments.size() > 1; // the one being appended to stays
    }

    @Override
    public void drop() {
      free += segments.removeFirst();
      drops++;
    }
  }

  @Test
  void refuse_whenTheBudgetIsSpent_namesTheBudget_andDropsNothing() throws Exception {
    Spill spill = new Spill(10_000 * MIB, 40 * MIB, 40 * MIB, 19 * MIB);
    DiskBudget budget = new DiskBudget(spill, 100 * MIB, 64 * MIB, true, OverflowPolicy.REFUSE, 0);
    budget.ensureRoom((int) (512 * 1024), 0, spill); // 99.5 MiB: fits
    assertThatThrownBy(() -> budget.ensureRoom((int) (2 * MIB), 0, spill))
        .isInstanceOf(DiskBudget.Refused.class)
        .hasMessageContaining("disk budget of 100 MiB is spent")
        .satisfies(e -> assertThat(((DiskBudget.Refused) e).deviceFull).isFalse());
    assertThat(spill.drops).isZero();
  }

  @Test
  void appendsSinceTheLastMeasurementCount_untilTheNextMeasurement() throws Exception {
    Spill spill = new Spill(10_000 * MIB, 10 * MIB);
    DiskBudget budget = new DiskBudget(spill, 12 * MIB, 0, false, OverflowPolicy.REFUSE, 0);
    budget.ensureRoom((int) (3 * MIB / 2), 0, spill); // 11.5 MiB: fits
    budget.appended(600 << 10); // not measured yet: the device still says 10 MiB
    assertThatThrownBy(() -> budget.ensureRoom((int) (3 * MIB / 2), 0, spill))
        .isInstanceOf(DiskBudget.Refused.class);
    // The next measurement (time passed) reads the device again.
    budget.ensureRoom((int) (3 * MIB / 2), DiskBudget.MEASURE_EVERY_MILLIS, spill);
  }

  @Test
  void dropOldest_deletesOldestSegmentsUntilTheAppendFits_neverTheLast() throws Exception {
    Spill spill = new Spill(10_000 * MIB, 30 * MIB, 30 * MIB, 30 * MIB, 9 * MIB);
    DiskBudget budget = new DiskBudget(spill, 100 * MIB, 0, true, OverflowPolicy.DROP_OLDEST, 0);
    budget.ensureRoom((int) (40 * MIB), 0, spill); // 99 + 40 > 100: two segments must go
    assertThat(spill.drops).isEqualTo(2);
    assertThat(spill.segments).containsExactly(30 * MIB, 9 * MIB);

    Spill one = new Spill(10_000 * MIB, 99 * MIB);
    DiskBudget full = new DiskBudget(one, 100 * MIB, 0, true, OverflowPolicy.DROP_OLDEST, 0);
    assertThatThrownBy(() -> full.ensureRoom((int) (2 * MIB), 0, one))
        .isInstanceOf(DiskBudget.Refused.class)
        .hasMessageContaining("spent");
    assertThat(one.drops).isZero();
  }

  @Test
  void freeSpaceGuard_refusesNearAFullDevice_asADeviceFault_whateverTheBudget() throws Exception {
    Spill spill = new Spill(70 * MIB, 1 * MIB);
    DiskBudget budget = new DiskBudget(spill, 10_000 * MIB, 64 * MIB, true, OverflowPolicy.DROP_OLDEST, 0);
    budget.ensureRoom((int) (5 * MIB), 0, spill);
    spill.free = 65 * MIB; // the device filled up meanwhile (another process): measured near the edge
    assertThatThrownBy(() -> budget.ensureRoom((int) (2 * MIB), 0, spill))
        .isInstanceOf(DiskBudget.Refused.class)
        .hasMessageContaining("nearly full (65 MiB free, 64 MiB kept free)")
        .satisfies(e -> assertThat(((DiskBudget.Refused) e).deviceFull).isTrue());
  }
}
