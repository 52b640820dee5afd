package dev.spillway.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class InPlayOffsetsTest {
  private static final TopicPartition P0 = new TopicPartition("spill", 0);
  private static final TopicPartition P1 = new TopicPartition("spill", 1);

  @Test
  void lowest_followsAcknowledgementsPerPartition() {
    InPlayOffsets inPlay = new InPlayOffsets();
    inPlay.add(P0, 5);
    inPlay.add(P0, 6);
    inPlay.add(P1, 9);

    inPlay.remove(P0, 5);

    assertThat(inPlay.lowest(P0, 100)).isEqualTo(6);
    assertThat(inPlay.lowest(P1, 100)).isEqualTo(9);
    inPlay.remove(P0, 6);
    assertThat(inPlay.lowest(P0, 100)).as("none in play: the caller's fallback").isEqualTo(100);
    assertThat(inPlay.count()).isEqualTo(1);
  }

  @Test
  void count_ignoresRepeatsAndUnknownOffsets() {
    InPlayOffsets inPlay = new InPlayOffsets();
    inPlay.add(P0, 1);
    inPlay.add(P0, 1); // fetched again after a seek: still one record in play

    inPlay.remove(P0, 2);
    inPlay.remove(P1, 1);

    assertThat(inPlay.count()).isEqualTo(1);
    inPlay.remove(P0, 1);
    inPlay.remove(P0, 1); // acknowledged twice
    assertThat(inPlay.count()).isZero();
  }

  @Test
  void forget_dropsThePartitionsOffsetsFromTheCount() {
    InPlayOffsets inPlay = new InPlayOffsets();
    inPlay.add(P0, 1);
    inPlay.add(P0, 2);
    inPlay.add(P1, 3);

    inPlay.forget(List.of(P0, new TopicPartition("spill", 7)));

    assertThat(inPlay.count()).isEqualTo(1);
    assertThat(inPlay.contains(P0, 1)).isFalse();
    assertThat(inPlay.contains(P1, 3)).isTrue();
  }

  /**
   * A metrics scrape reads the count while the drain thread fetches, acknowledges and loses
   * partitions. Counting by walking the maps from the scrape's thread threw
   * ConcurrentModificationException or saw torn totals here.
   */
  @Test
  void count_fromAnotherThread_whileTheDrainChangesPartitions_isAlwaysAValidTotal() throws Exception {
    InPlayOffsets inPlay = new InPlayOffsets();
    int partitions = 8;
    int perPartition = 4;
    AtomicBoolean draining = new AtomicBoolean(true);
    AtomicReference<Throwable> scrapeFailure = new AtomicReference<>();
    AtomicInteger scrapes = new AtomicInteger();
    CountDownLatch scraping = new CountDownLatch(1);
    Thread scrape = new Thread(() -> {
      try {
        while (draining.get()) {
          int c = inPlay.count();
          if (c < 0 || c > partitions * perPartition) {
            throw new AssertionError("count " + c + " outside 0.." + partitions * perPartition);
          }
          scrapes.incrementAndGet();
          scraping.countDown();
        }
      } catch (Throwable t) {
        scrapeFailure.set(t);
        scraping.countDown();
      }
    }, "scrape");
    scrape.start();
    assertThat(scraping.await(10, TimeUnit.SECONDS)).isTrue();

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    for (int round = 0; round < 20_000 && System.nanoTime() < deadline && scrapeFailure.get() == null; round++) {
      for (int p = 0; p < partitions; p++) {
        TopicPartition tp = new TopicPartition("spill", p);
        for (int o = 0; o < perPartition; o++) {
          inPlay.add(tp, round * perPartition + o);
        }
        inPlay.remove(tp, round * perPartition);
      }
      for (int p = 0; p < partitions; p++) { // a rebalance takes every partition away
        inPlay.forget(List.of(new TopicPartition("spill", p)));
      }
    }
    draining.set(false);
    scrape.join(TimeUnit.SECONDS.toMillis(10));

    assertThat(scrapeFailure.get()).isNull();
    assertThat(scrapes.get()).isPositive();
    assertThat(inPlay.count()).isZero();
  }
}
