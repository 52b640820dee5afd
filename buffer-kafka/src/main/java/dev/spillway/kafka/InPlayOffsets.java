package dev.spillway.kafka;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;

/**
 * Offsets fetched and not yet acknowledged, per partition: the lowest of them is as far as a
 * partition's commit may move.
 *
 * <p><b>Threads.</b> Every method but {@link #count} runs on the drain thread. {@link #count} may
 * be called from any thread (a metrics scrape): it reads a count the drain thread publishes after
 * each change, never the maps, which another thread must not iterate while the drain changes them.
 */
final class InPlayOffsets {
  private final Map<TopicPartition, NavigableSet<Long>> offsets = new HashMap<>();
  private final AtomicInteger count = new AtomicInteger();

  /** A record at {@code offset} was fetched. */
  void add(TopicPartition partition, long offset) {
    if (offsets.computeIfAbsent(partition, p -> new TreeSet<>()).add(offset)) {
      count.incrementAndGet();
    }
  }

  /** True if {@code offset} is in play in {@code partition} (false once revoked or acknowledged). */
  boolean contains(TopicPartition partition, long offset) {
    NavigableSet<Long> in = offsets.get(partition);
    return in != null && in.contains(offset);
  }

  /** The record at {@code offset} was acknowledged; nothing if it was not in play. */
  void remove(TopicPartition partition, long offset) {
    NavigableSet<Long> in = offsets.get(partition);
    if (in != null && in.remove(offset)) {
      count.decrementAndGet();
    }
  }

  /** The lowest offset in play in {@code partition}, or {@code otherwise} when none is. */
  long lowest(TopicPartition partition, long otherwise) {
    NavigableSet<Long> in = offsets.get(partition);
    return in == null || in.isEmpty() ? otherwise : in.first();
  }

  /** These partitions are no longer this member's: their offsets are out of play. */
  void forget(Collection<TopicPartition> partitions) {
    for (TopicPartition partition : partitions) {
      NavigableSet<Long> in = offsets.remove(partition);
      if (in != null) {
        count.addAndGet(-in.size());
      }
    }
  }

  /** Offsets in play over all partitions. Any thread. */
  int count() {
    return count.get();
  }
}
