package dev.spillway.bench;

import java.time.Duration;

/**
 * Brings the JDK's AES-GCM code to its compiled steady state before a trial measures it.
 *
 * <p>HotSpot only uses the AES-GCM intrinsics from C2-compiled callers, and C2 compiles a method
 * after some thousands of calls. A fresh JVM handed only large records (an 8192-span batch is 8 MB
 * of OTLP, 1.9 MB after LZ4) makes few calls, each interpreted at about 100 MB/s instead of the
 * 4–6 GB/s of compiled code: on these machines it took about 80 s of back-to-back 8 MiB
 * encryptions before C2 caught up. JMH's warm-up iterations (seconds) never reach that point, so
 * without this step the batch-8192 columns measured the interpreter, not Spillway. A long-running
 * daemon reaches the compiled state on its own; docs/BENCHMARKS.md reports the cold figure.
 *
 * <p>The daemon runs the same warm-up at startup (buffer-core's {@code AesGcmWarmup}); here it
 * runs for up to two minutes, at a record of about 100 KB (cheap even when interpreted, and above
 * the JDK's 64 KiB threshold for its parallel GCM path) then at each size the trial will use, until
 * five calls in a row run above {@link #FAST_BYTES_PER_SECOND}.
 */
public final class AesGcmWarmup {
  /** Well under what compiled code does here (4–6 GB/s), well over the interpreter (~0.1 GB/s). */
  static final double FAST_BYTES_PER_SECOND = 1.0e9;

  private static final int LARGE = 100_003; // not a multiple of the block size: the tail path too
  private static final Duration MAX_TIME = Duration.ofMinutes(2);

  private AesGcmWarmup() {}

  /**
   * Warm-up for the records of one batch size: its OTLP bytes, uncompressed and at about the LZ4
   * ratio of the fixtures (~4×), the two record sizes the sealed benchmarks produce.
   */
  public static void forBatch(int batch) {
    int otlp = SpanFixtures.otlpBytes(batch).length;
    forRecordSizes(otlp, otlp / 4);
  }

  /**
   * Runs the warm-up for records of these sizes (after a large record the JDK's parallel path
   * needs) and says on standard error how long it took and whether every size reached compiled
   * speed (a trial that starts cold is reported, not hidden).
   */
  public static void forRecordSizes(int... sizes) {
    if (Boolean.getBoolean("spillway.bench.skipAesWarmup")) {
      return; // the smoke test runs each benchmark once and measures nothing
    }
    int[] all = new int[sizes.length + 1];
    all[0] = LARGE;
    System.arraycopy(sizes, 0, all, 1, sizes.length);
    System.err.println(dev.spillway.core.internal.seal.AesGcmWarmup.run(MAX_TIME, FAST_BYTES_PER_SECOND, all));
  }
}
