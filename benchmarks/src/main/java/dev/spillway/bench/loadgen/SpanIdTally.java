package dev.spillway.bench.loadgen;

import com.google.protobuf.ByteString;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * The downstream side of {@link SpanIdStamper}: counts each stamped span id once, and every
 * further arrival of the same id as a duplicate. Ids that were not stamped (another sender, or an
 * id of the wrong length) are counted as foreign and otherwise ignored.
 *
 * <p>One bit per span sent, per connection: ten million spans take about 1.2 MiB.
 *
 * <p>Thread-safe: the gRPC server's threads call {@link #record} concurrently.
 */
final class SpanIdTally {
  /** Largest sequence tracked per connection (a BitSet index is an int). */
  private static final long MAX_SEQUENCE = Integer.MAX_VALUE;

  /** Guards {@link #seen}, the counters, {@link #firstNewMillis} and {@link #lastNewMillis}. */
  private final Object lock = new Object();
  private final Map<Integer, BitSet> seen = new HashMap<>();
  private long unique;
  private long duplicates;
  private long foreign;
  private long firstNewMillis;
  private long lastNewMillis;

  /** Counts one span id received at {@code nowMillis}. */
  void record(ByteString spanId, long nowMillis) {
    if (spanId.size() != 8) {
      synchronized (lock) {
        foreign++;
      }
      return;
    }
    long id = 0;
    for (int b = 0; b < 8; b++) {
      id = id << 8 | (spanId.byteAt(b) & 0xff);
    }
    long connection = (id >>> SpanIdStamper.CONNECTION_SHIFT) - 1;
    long sequence = id & SpanIdStamper.SEQUENCE_MASK;
    synchronized (lock) {
      if (connection < 0 || connection >= SpanIdStamper.MAX_CONNECTIONS || sequence > MAX_SEQUENCE) {
        foreign++;
        return;
      }
      BitSet bits = seen.computeIfAbsent((int) connection, c -> new BitSet());
      if (bits.get((int) sequence)) {
        duplicates++;
      } else {
        bits.set((int) sequence);
        if (unique++ == 0) {
          firstNewMillis = nowMillis;
        }
        lastNewMillis = nowMillis;
      }
    }
  }

  /** "{@code unique duplicates foreign last_new_epoch_ms}" (0 when nothing arrived yet). */
  String summary() {
    synchronized (lock) {
      return unique + " " + duplicates + " " + foreign + " " + lastNewMillis;
    }
  }

  /**
   * When the first span id arrived (epoch ms, 0 before any): after an outage, how long the
   * downstream waited for its first delivery.
   */
  long firstNewMillis() {
    synchronized (lock) {
      return firstNewMillis;
    }
  }

  long unique() {
    synchronized (lock) {
      return unique;
    }
  }

  long duplicates() {
    synchronized (lock) {
      return duplicates;
    }
  }

  long foreign() {
    synchronized (lock) {
      return foreign;
    }
  }
}
