package dev.spillway.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ThrottledWarningTest {
  final AtomicLong now = new AtomicLong(1_000);
  final List<String> lines = new CopyOnWriteArrayList<>();
  final ThrottledWarning w = new ThrottledWarning(10, now::get, lines::add);

  @Test
  void firstEventAtOnce_thenOneLinePerIntervalWithTheCount() {
    w.event("e1");
    assertThat(lines).containsExactly("1 time, latest: e1");
    for (int i = 2; i <= 500; i++) {
      w.event("e" + i); // a burst within the interval: counted, not logged
    }
    assertThat(lines).hasSize(1);
    now.addAndGet(10);
    w.event("e501");
    assertThat(lines).containsExactly("1 time, latest: e1", "500 times, latest: e501");
  }

  @Test
  void tick_reportsWhatWasCountedOnlyWhenDue_andFlushReportsTheRest() {
    w.event("a");
    w.event("b");
    w.tick();
    assertThat(lines).hasSize(1); // not due yet
    now.addAndGet(10);
    w.tick();
    assertThat(lines).containsExactly("1 time, latest: a", "1 time, latest: b");
    w.tick();
    now.addAndGet(10);
    w.tick();
    assertThat(lines).as("nothing counted, nothing said").hasSize(2);
    w.event("c"); // due again (the interval has passed): logged at once
    w.event("d");
    w.flush();
    assertThat(lines).containsExactly("1 time, latest: a", "1 time, latest: b", "1 time, latest: c",
        "1 time, latest: d");
    w.flush();
    assertThat(lines).hasSize(4);
  }
}
