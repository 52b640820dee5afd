package dev.spillway.core.internal.seal;

import com.google.crypto.tink.subtle.AesGcmJce;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;

/**
 * Brings the JDK's AES-GCM code to its compiled speed before the first batch is sealed or opened.
 *
 * <p>HotSpot uses its AES and GHASH intrinsics only from C2-compiled callers, and C2 compiles a
 * method after thousands of calls. A fresh process sealing a few hundred records a second makes
 * few calls, each of them running GHASH in plain Java: measured on the 2-core bench machine, a
 * cold JVM sealed and opened 120 KB records at 15–46 MB/s for its first 3 s of back-to-back calls,
 * 1.2–2.4 GB/s after; in the side-by-side run GHASH's Java loop (`GHASH.blockMult`) was still
 * 4–8 % of the daemon's CPU in a 30 s phase. So a restart with a backlog would drain it at the
 * interpreter's pace. The JDK takes a different path for inputs above 64 KiB, so both sizes are
 * exercised.
 *
 * <p>It uses a throwaway random key and zero bytes: no configured key, no payload, nothing
 * written. Each size runs until {@value #FAST_IN_A_ROW} calls in a row seal and open faster than
 * its bar ({@value #SMALL_FAST_BYTES_PER_SECOND} bytes/s at 4 KB, {@value #FAST_BYTES_PER_SECOND}
 * at 100 KB), or until its time is spent; the result says which. The 4 KB size has at most half
 * the budget, so the 100 KB size always gets its turn. How many calls it takes depends on how busy
 * the JIT's threads are: on a loaded CI machine the 4 KB size was still slow after 5,000 calls
 * (0.6 s), so the time is the only bound.
 * {@code -Dspillway.aesgcm.warmup=false} skips it (for a short-lived process).
 */
public final class AesGcmWarmup {
  /** The system property that turns the warm-up off. */
  public static final String PROPERTY = "spillway.aesgcm.warmup";

  /** At 100 KB: under compiled speed here (1.2–2.8 GB/s), over cold code (15–46 MB/s). */
  static final double FAST_BYTES_PER_SECOND = 0.25e9;
  /**
   * At 4 KB, where a call's fixed cost weighs more: compiled code did 0.3–0.6 GB/s here on a busy
   * machine (a 0.25 GB/s bar was missed for 5,000 calls in a row once), cold code 15–46 MB/s.
   */
  static final double SMALL_FAST_BYTES_PER_SECOND = 0.1e9;

  static final int SMALL = 4_099; // not a multiple of the block size: the tail path too
  static final int LARGE = 100_003; // above the JDK's 64 KiB threshold
  private static final int FAST_IN_A_ROW = 5;

  /** What a warm-up did: how long it took, and whether every size reached compiled speed. */
  public record Result(boolean skipped, boolean compiled, Duration took, String detail) {
    @Override
    public String toString() {
      if (skipped) {
        return "AES-GCM warm-up skipped (-D" + PROPERTY + "=false)";
      }
      return String.format("AES-GCM warm-up %s in %d ms (%s)", compiled ? "reached compiled speed" : "did not reach compiled speed",
          took.toMillis(), detail);
    }
  }

  private AesGcmWarmup() {}

  /** Runs the warm-up for small and large records, for at most {@code budget}, unless the property says not to. */
  public static Result run(Duration budget) {
    if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))) {
      return new Result(true, false, Duration.ZERO, "");
    }
    return runSmallThenLarge(budget, SMALL_FAST_BYTES_PER_SECOND, FAST_BYTES_PER_SECOND);
  }

  /** The two sizes with these bars: 4 KB for at most half the budget, then 100 KB for the rest. */
  static Result runSmallThenLarge(Duration budget, double smallFastBytesPerSecond, double largeFastBytesPerSecond) {
    Result small = run(budget.dividedBy(2), smallFastBytesPerSecond, SMALL);
    Result large = run(budget.minus(small.took()), largeFastBytesPerSecond, LARGE);
    return new Result(false, small.compiled() && large.compiled(), small.took().plus(large.took()),
        small.detail() + ", " + large.detail());
  }

  /**
   * Runs the warm-up for these record sizes in turn, for at most {@code budget} in all, counting a
   * call as compiled when it seals and opens faster than {@code fastBytesPerSecond}.
   */
  public static Result run(Duration budget, double fastBytesPerSecond, int... sizes) {
    long start = System.nanoTime();
    long deadline = start + budget.toNanos();
    try {
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      AesGcmJce aead = new AesGcmJce(key);
      byte[] aad = new byte[EnvelopeFormat.BATCH_HEADER];
      boolean all = true;
      StringBuilder detail = new StringBuilder();
      for (int size : sizes) {
        int[] calls = new int[1];
        boolean fast = untilFast(aead, new byte[size], aad, fastBytesPerSecond, deadline, calls);
        all &= fast;
        detail.append(detail.isEmpty() ? "" : ", ").append(size).append(" B: ").append(calls[0]).append(" calls");
      }
      return new Result(false, all, Duration.ofNanos(System.nanoTime() - start), detail.toString());
    } catch (GeneralSecurityException e) {
      // The JDK has no AES-GCM: sealing will say so with its own error, where it matters.
      return new Result(false, false, Duration.ofNanos(System.nanoTime() - start), "failed: " + e.getMessage());
    }
  }

  private static boolean untilFast(AesGcmJce aead, byte[] plaintext, byte[] aad, double fastBytesPerSecond,
      long deadline, int[] calls) throws GeneralSecurityException {
    int inARow = 0;
    while (inARow < FAST_IN_A_ROW && System.nanoTime() < deadline) {
      long t0 = System.nanoTime();
      byte[] sealed = aead.encrypt(plaintext, aad);
      long t1 = System.nanoTime();
      aead.decrypt(sealed, aad);
      long t2 = System.nanoTime();
      boolean fast = plaintext.length / ((t1 - t0 + 1) / 1e9) > fastBytesPerSecond
          && plaintext.length / ((t2 - t1 + 1) / 1e9) > fastBytesPerSecond;
      inARow = fast ? inARow + 1 : 0;
      calls[0]++;
    }
    return inARow >= FAST_IN_A_ROW;
  }
}
