package dev.spillway.bench.seal;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.aead.KmsEnvelopeAead;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import com.google.crypto.tink.subtle.AesGcmJce;
import com.google.crypto.tink.subtle.Random;
import dev.spillway.bench.AesGcmWarmup;
import dev.spillway.bench.KeyCallLog;
import dev.spillway.bench.SpanFixtures;
import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Crypto baselines on the same OTLP bytes as {@link SealBenchmark}.
 *
 * <ul>
 *   <li>{@link #tinkAesGcm}: Tink's {@code AesGcmJce} on the whole batch, one fixed key: the
 *       crypto limit of this CPU, what no envelope can beat.
 *   <li>{@link #kmsEnvelopeAead}: Tink {@code KmsEnvelopeAead} (a fresh AES-256-GCM data key per
 *       batch, wrapped by a remote AEAD) — the naive one-KMS-call-per-batch design. The remote
 *       AEAD is an in-process AES-GCM that first parks the thread for {@value #SIMULATED_RTT_MICROS}
 *       µs ({@code LockSupport.parkNanos}, re-parked until the deadline), a simulated KMS round
 *       trip; a real in-region AWS KMS call takes longer. Parking may overshoot by tens of µs on a
 *       busy machine; that overshoot counts as round trip.
 * </ul>
 */
@State(Scope.Thread)
public class AeadBaselineBenchmark {
  static final long SIMULATED_RTT_MICROS = 1000;
  private static final byte[] AD = "bench".getBytes(java.nio.charset.StandardCharsets.UTF_8);

  @Param({"128", "512", "8192"})
  public int batch;

  private byte[] payload;
  private Aead aesGcm;
  private Aead envelope;
  private SimulatedRemoteAead remote;

  @Setup(Level.Trial)
  public void setUp() throws GeneralSecurityException {
    AesGcmWarmup.forBatch(batch);
    AeadConfig.register();
    payload = SpanFixtures.otlpBytes(batch);
    aesGcm = new AesGcmJce(Random.randBytes(32));
    remote = new SimulatedRemoteAead(new AesGcmJce(Random.randBytes(32)), TimeUnit.MICROSECONDS.toNanos(SIMULATED_RTT_MICROS));
    envelope = KmsEnvelopeAead.create(PredefinedAeadParameters.AES256_GCM, remote);
  }

  @Benchmark
  public byte[] tinkAesGcm() throws GeneralSecurityException {
    return aesGcm.encrypt(payload, AD);
  }

  @Benchmark
  public byte[] kmsEnvelopeAead() throws GeneralSecurityException {
    return envelope.encrypt(payload, AD);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    long calls = remote.calls.get();
    if (calls > 0) {
      // one data key, hence one epoch, per batch: calls == batches == epochs
      KeyCallLog.record("AeadBaselineBenchmark.kmsEnvelopeAead", batch, calls, calls, calls);
    }
  }

  /** A "remote" AEAD: a local cipher behind a fixed simulated round trip; counts its calls. */
  static final class SimulatedRemoteAead implements Aead {
    private final Aead local;
    private final long rttNanos;
    final AtomicLong calls = new AtomicLong();

    SimulatedRemoteAead(Aead local, long rttNanos) {
      this.local = local;
      this.rttNanos = rttNanos;
    }

    @Override
    public byte[] encrypt(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
      calls.incrementAndGet();
      roundTrip();
      return local.encrypt(plaintext, associatedData);
    }

    @Override
    public byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException {
      calls.incrementAndGet();
      roundTrip();
      return local.decrypt(ciphertext, associatedData);
    }

    private void roundTrip() {
      long deadline = System.nanoTime() + rttNanos;
      long left;
      while ((left = deadline - System.nanoTime()) > 0) {
        LockSupport.parkNanos(left);
      }
    }
  }
}
