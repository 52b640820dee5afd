package dev.spillway.bench;

import com.google.crypto.tink.subtle.AesGcmJce;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

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
 * <p>The warm-up uses a throwaway key and zero bytes: first many calls of about 100 KB (cheap even
 * when interpreted, and above the JDK's 64 KiB threshold for its parallel GCM path), then calls
 * at each size the trial will use until five in a row run above {@link #FAST_BYTES_PER_SECOND}.
 * Every loop is bounded in calls and time.
 */
public final class AesGcmWarmup {
  /** Well under what compiled code does here (4–6 GB/s), well over the interpreter (~0.1 GB/s). */
  static final double FAST_BYTES_PER_SECOND = 1.0e9;

  private static final int SMALL = 100_003; // not a multiple of the block size: the tail path too
  private static final int SMALL_CALLS = 600;
  private static final int FAST_IN_A_ROW = 5;
  private static final int MAX_CALLS_PER_SIZE = 2_000;
  private static final long MAX_NANOS = 120_000_000_000L;

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
   * Runs the warm-up for records of these sizes and says on standard error how long it took and
   * whether every size reached compiled speed (a trial that starts cold is reported, not hidden).
   */
  public static void forRecordSizes(int... sizes) {
    if (Boolean.getBoolean("spillway.bench.skipAesWarmup")) {
      return; // the smoke test runs each benchmark once and measures nothing
    }
    long start = System.nanoTime();
    try {
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      AesGcmJce aead = new AesGcmJce(key);
      byte[] aad = new byte[58];
      byte[] small = new byte[SMALL];
      for (int i = 0; i < SMALL_CALLS && System.nanoTime() - start < MAX_NANOS; i++) {
        aead.decrypt(aead.encrypt(small, aad), aad);
      }
      StringBuilder report = new StringBuilder();
      for (int size : sizes) {
        report.append(' ').append(size).append(" B: ").append(untilFast(aead, new byte[size], aad, start));
      }
      System.err.printf("AES-GCM warm-up %.1f s;%s%n", (System.nanoTime() - start) / 1e9, report);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM warm-up failed", e);
    }
  }

  private static String untilFast(AesGcmJce aead, byte[] plaintext, byte[] aad, long start)
      throws GeneralSecurityException {
    int inARow = 0;
    int calls = 0;
    while (inARow < FAST_IN_A_ROW && calls < MAX_CALLS_PER_SIZE && System.nanoTime() - start < MAX_NANOS) {
      long t0 = System.nanoTime();
      byte[] sealed = aead.encrypt(plaintext, aad);
      long t1 = System.nanoTime();
      aead.decrypt(sealed, aad);
      long t2 = System.nanoTime();
      boolean fast = plaintext.length / ((t1 - t0) / 1e9) > FAST_BYTES_PER_SECOND
          && plaintext.length / ((t2 - t1) / 1e9) > FAST_BYTES_PER_SECOND;
      inARow = fast ? inARow + 1 : 0;
      calls++;
    }
    return (inARow >= FAST_IN_A_ROW ? "compiled after " : "STILL SLOW after ") + calls + " calls";
  }
}
