package dev.spillway.bench.export;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * Same-run CPU-time ratios on a shared machine: the variants take turns in one thread, in an order
 * shuffled every round, and each turn is timed by the thread's own CPU time, so load from other
 * processes moves every variant alike instead of whichever ran during it. Used where JMH's
 * wall-clock scores drown in the noise of a busy 2-core machine ({@link CodecCpuRatios}, {@link
 * EmbeddedCpuRatios}).
 */
final class ThreadCpuRounds {
  private static long sink;

  private ThreadCpuRounds() {}

  /**
   * The median CPU nanoseconds per call of each variant over {@code rounds} rounds. Each variant
   * is first warmed up for {@code warmup} of CPU time (which also sizes its turns: about {@code
   * turn} of CPU each).
   */
  static Map<String, Long> medianCpuNanos(Map<String, Callable<Object>> variants, int rounds, Duration warmup,
      Duration turn) throws Exception {
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    Map<String, Integer> opsPerTurn = new LinkedHashMap<>();
    for (Map.Entry<String, Callable<Object>> v : variants.entrySet()) {
      long start = cpu.getCurrentThreadCpuTime();
      int ops = 0;
      while (cpu.getCurrentThreadCpuTime() - start < warmup.toNanos() && ops < 1_000_000) {
        consume(v.getValue().call());
        ops++;
      }
      long perOp = Math.max(1, (cpu.getCurrentThreadCpuTime() - start) / ops);
      opsPerTurn.put(v.getKey(), (int) Math.max(1, turn.toNanos() / perOp));
    }
    Map<String, long[]> perOpNanos = new LinkedHashMap<>();
    variants.keySet().forEach(k -> perOpNanos.put(k, new long[rounds]));
    List<String> order = new ArrayList<>(variants.keySet());
    Random shuffle = new Random(1);
    for (int round = 0; round < rounds; round++) {
      Collections.shuffle(order, shuffle);
      for (String k : order) {
        Callable<Object> op = variants.get(k);
        int n = opsPerTurn.get(k);
        long start = cpu.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
          consume(op.call());
        }
        perOpNanos.get(k)[round] = (cpu.getCurrentThreadCpuTime() - start) / n;
      }
    }
    Map<String, Long> medians = new LinkedHashMap<>();
    perOpNanos.forEach((k, v) -> {
      long[] s = v.clone();
      Arrays.sort(s);
      medians.put(k, s[s.length / 2]);
    });
    return medians;
  }

  /** Printed once at the end, so no result is dead code the JIT could drop. */
  static long sinkBit() {
    return sink & 1;
  }

  private static void consume(Object o) {
    sink += o instanceof byte[] b ? b.length : o instanceof List<?> l ? l.size() : o.hashCode();
  }
}
