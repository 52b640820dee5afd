package dev.spillway.core;

import static dev.spillway.core.SpillFixtures.builder;
import static dev.spillway.core.SpillFixtures.drain;
import static dev.spillway.core.SpillFixtures.payload;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.IssuedDataKey;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyProviderId;
import dev.spillway.core.keys.KeyRecordSigner;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.internal.seal.TestKeys;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer's key provider stalls (a KMS call hanging to its 5 s timeout): offers are answered
 * at once, accepted while the current key lasts and refused with back-pressure after, and nothing
 * else waits behind the stall. The reader-side stall is in {@link SpillBufferTest}.
 */
class KeyProviderStallTest {
  static final Duration STALL = Duration.ofSeconds(5);

  @TempDir Path tmp;
  TestKeys keys;

  @BeforeEach
  void setUp() {
    keys = TestKeys.in(tmp.resolve("keys"));
  }

  /** Issues keys through the test key pair; the call numbered {@code stallingCall} hangs until released. */
  static final class StallingIssuer implements DataKeyIssuer {
    final DataKeyIssuer delegate;
    final int stallingCall;
    final CountDownLatch stalling = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger calls = new AtomicInteger();

    StallingIssuer(DataKeyIssuer delegate, int stallingCall) {
      this.delegate = delegate;
      this.stallingCall = stallingCall;
    }

    @Override
    public KeyProviderId provider() {
      return delegate.provider();
    }

    @Override
    public KeyRecordSigner signer() {
      return delegate.signer();
    }

    @Override
    public IssuedDataKey issue(KeyContext context) throws KeyUnavailableException {
      if (calls.incrementAndGet() == stallingCall) {
        stalling.countDown();
        try {
          release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new KeyUnavailableException("interrupted (test)", e);
        }
      }
      return delegate.issue(context);
    }
  }

  @Test
  void dropOldest_keyProviderStalls5sAtRotation_offersAnswerWithin100ms() throws Exception {
    // Rotation is due at 30 records and the key is spent at 40: the stall spans both.
    StallingIssuer issuer = new StallingIssuer(keys.issuer(), 2);
    List<Long> nanos = new ArrayList<>();
    int accepted = 0;
    int refused = 0;
    try (SpillBuffer b = builder(tmp.resolve("spill"), keys).writerKeys(issuer)
        .rotationPolicy(new RotationPolicy(Duration.ofHours(1), 40, 1L << 40))
        .memoryLimitBytes(0).maxDiskBytes(2 << 20).segmentBytes(256 << 10).compression(Compression.NONE)
        .overflowPolicy(OverflowPolicy.DROP_OLDEST).build()) {
      long stallEnds = 0;
      for (int i = 0; i < 2_000; i++) {
        if (stallEnds == 0 && issuer.stalling.getCount() == 0) {
          stallEnds = System.nanoTime() + STALL.toNanos();
        }
        if (stallEnds != 0 && System.nanoTime() >= stallEnds) {
          break;
        }
        long t0 = System.nanoTime();
        boolean ok = b.offer(PayloadType.OTLP_TRACES, payload(i, 8_000)).accepted();
        nanos.add(System.nanoTime() - t0);
        if (ok) {
          accepted++;
        } else {
          refused++;
        }
        Thread.sleep(2);
      }
      assertThat(issuer.stalling.getCount()).as("the provider stalled on the rotation").isZero();
      assertThat(accepted).as("accepted with the current key while it lasted").isGreaterThanOrEqualTo(39);
      assertThat(refused).as("refused once the key was spent, the new one still stalled").isPositive();
      nanos.sort(null);
      assertThat(Duration.ofNanos(nanos.get(nanos.size() * 99 / 100))).isLessThan(Duration.ofMillis(100));
      assertThat(Duration.ofNanos(nanos.get(nanos.size() - 1))).isLessThan(Duration.ofSeconds(1));

      issuer.release.countDown(); // the provider answers: offers are accepted again
      boolean resumed = false;
      for (int i = 0; i < 500 && !resumed; i++) {
        resumed = b.offer(PayloadType.OTLP_TRACES, payload(10_000 + i, 8_000)).accepted();
        if (!resumed) {
          Thread.sleep(10);
        }
      }
      assertThat(resumed).isTrue();
      assertThat(b.metrics().keyRequests()).isEqualTo(2);
    }
  }

  @Test
  void firstKeyStalls_closeIsNotHeldUpByAnOfferWaitingForIt() throws Exception {
    StallingIssuer issuer = new StallingIssuer(keys.issuer(), 1);
    SpillBuffer b = builder(tmp.resolve("spill"), keys).writerKeys(issuer).durability(Durability.DURABLE).build();
    try {
      assertThat(issuer.stalling.await(10, TimeUnit.SECONDS)).as("prefetch asked for the first key").isTrue();
      CountDownLatch offering = new CountDownLatch(1);
      OfferResult[] result = new OfferResult[1];
      Thread offer = new Thread(() -> {
        offering.countDown();
        result[0] = b.offer(PayloadType.OTLP_TRACES, payload(1, 100));
      });
      offer.start();
      assertThat(offering.await(10, TimeUnit.SECONDS)).isTrue();
      Thread.sleep(200); // the offer is waiting for the key now
      long t0 = System.nanoTime();
      BufferMetrics m = b.metrics();
      assertThat(b.poll(Duration.ofMillis(10))).isNull();
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("metrics and poll").isLessThan(Duration.ofMillis(500));
      assertThat(m.keyRequests()).isEqualTo(1);
      offer.join(10_000);
      assertThat(result[0].accepted()).as("no key within the first-key wait: refused, not stored").isFalse();
      assertThat(result[0].reason()).contains("data key");
    } finally {
      issuer.release.countDown();
      b.close();
    }
  }

  @Test
  void memoryFirst_firstKeyStalls_memoryTierAcceptsAndCloseSealsOnceTheKeyComes() throws Exception {
    StallingIssuer issuer = new StallingIssuer(keys.issuer(), 1);
    Path dir = tmp.resolve("spill");
    SpillBuffer b = builder(dir, keys).writerKeys(issuer).durability(Durability.MEMORY_FIRST)
        .memoryLimitBytes(1 << 20).build();
    assertThat(issuer.stalling.await(10, TimeUnit.SECONDS)).isTrue();
    for (int i = 0; i < 20; i++) {
      long t0 = System.nanoTime();
      assertThat(b.offer(PayloadType.OTLP_TRACES, payload(i, 1_000)).outcome()).isEqualTo(OfferResult.Outcome.IN_MEMORY);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(100));
    }
    Thread answer = new Thread(() -> {
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      issuer.release.countDown();
    });
    answer.start();
    b.close(); // waits (bounded) for the first key, then seals the memory tier
    answer.join(10_000);
    try (SpillBuffer again = builder(dir, keys).build()) {
      assertThat(drain(again, 20, Duration.ofSeconds(20))).hasSize(20);
    }
  }
}
