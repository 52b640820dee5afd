package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The read cache on its own: bounded in bytes, oldest out first, taken once. */
class ReadCacheTest {
  @Test
  void boundedInBytes_oldestOutFirst_takenOnce() {
    ReadCache c = new ReadCache(100);
    c.put(1, new byte[40]);
    c.put(2, new byte[40]);
    c.put(3, new byte[40]); // 120 > 100: position 1 goes
    assertThat(c.bytes()).isEqualTo(80);
    assertThat(c.take(1)).isNull();
    assertThat(c.take(2)).hasSize(40);
    assertThat(c.take(2)).as("taken once").isNull();
    assertThat(c.bytes()).isEqualTo(40);
  }

  @Test
  void largerThanTheLimit_notKept_andEvictsNothing() {
    ReadCache c = new ReadCache(100);
    c.put(1, new byte[60]);
    c.put(2, new byte[101]);
    assertThat(c.take(2)).isNull();
    assertThat(c.take(1)).hasSize(60);
  }

  @Test
  void forget_dropsGonePositions_andRecountsBytes() {
    ReadCache c = new ReadCache(1000);
    for (long p = 0; p < 10; p++) {
      c.put(p, new byte[10]);
    }
    c.forget(p -> p < 4);
    assertThat(c.size()).isEqualTo(6);
    assertThat(c.bytes()).isEqualTo(60);
    c.clear();
    assertThat(c.bytes()).isZero();
  }
}
