package dev.spillway.server.receive;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.spillway.core.BufferMetrics;
import dev.spillway.core.Delivery;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.OfferResult;
import dev.spillway.core.OverflowPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillWriter;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.core.PayloadType;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coalescer in front of a real {@link SpillBuffer} (Chronicle files, sealed records, every
 * record sealed to disk: memory limit 0). Groups are made deterministic with {@link HeldWriter}:
 * the real buffer behind a gate that can hold one offer inside "the buffer's hands", which is
 * exactly when a newcomer must lead a group and wait rather than go alone.
 */
class CoalescingSpillWriterTest {
  /** Long enough that a request waiting for it would be obvious; groups here never wait it out. */
  static final Duration LONG_WINDOW = Duration.ofSeconds(5);

  @TempDir Path dir;
  private SpillBuffer buffer;
  private final ExecutorService pool = Executors.newFixedThreadPool(12);

  @BeforeEach
  void openBuffer() throws Exception {
    buffer = openBuffer(SpillBuffer.builder().memoryLimitBytes(0).fsync(FsyncPolicy.none()));
  }

  private SpillBuffer openBuffer(dev.spillway.core.SpillBufferBuilder b) throws Exception {
    Path keys = dir.resolve("keys");
    if (!keys.toFile().exists()) {
      LocalKeys.init(keys);
    }
    return b.directory(dir.resolve("spill"))
        .writerKeys(LocalKeys.issuer(keys.resolve(LocalKeys.WRITER_FILE)))
        .readerKeys(LocalKeys.unwrapper(keys.resolve(LocalKeys.READER_FILE)))
        .build();
  }

  @AfterEach
  void close() throws Exception {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    buffer.close();
  }

  @Test
  void requestsArrivingWhileAnotherIsInTheBuffer_becomeOneRecord_andEachGetsThatRecordsResult() throws Exception {
    HeldWriter held = new HeldWriter(buffer);
    CoalescingSpillWriter c = new CoalescingSpillWriter(held, 64 << 10, LONG_WINDOW, 1 << 20, 0);
    held.holdNext(PayloadType.OTLP_TRACES);
    Future<OfferResult> first = offerAsync(c, PayloadType.OTLP_TRACES, traces(0, 3));
    held.awaitHeld();
    // Three more, one after the other: the first leads (something is in the buffer's hands),
    // the others join in their order.
    List<Future<OfferResult>> group = new ArrayList<>();
    for (int r = 1; r <= 3; r++) {
      group.add(offerAsync(c, PayloadType.OTLP_TRACES, traces(r, 2 + r)));
      int members = r;
      awaitTrue(() -> c.forming(PayloadType.OTLP_TRACES) == members, "request " + r + " joined the group");
    }
    for (Future<OfferResult> f : group) {
      assertThat(f.isDone()).as("a member is answered only after the group's offer").isFalse();
    }
    held.release();

    assertThat(first.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(OfferResult.Outcome.SPILLED);
    OfferResult groupResult = group.get(0).get(10, TimeUnit.SECONDS);
    assertThat(groupResult.outcome()).isEqualTo(OfferResult.Outcome.SPILLED);
    for (Future<OfferResult> f : group) {
      assertThat(f.get(10, TimeUnit.SECONDS)).isSameAs(groupResult);
    }
    assertThat(buffer.metrics().offered()).isEqualTo(2);

    List<Delivery> records = drain(2);
    assertThat(records).hasSize(2);
    assertThat(spanNames(records.get(0))).containsExactly("r0-s0", "r0-s1", "r0-s2");
    // The combined record is one valid request: every member's spans, in the members' order.
    ExportTraceServiceRequest combined = ExportTraceServiceRequest.parseFrom(records.get(1).payload());
    assertThat(combined.getResourceSpansCount()).isEqualTo(3);
    assertThat(spanNames(records.get(1))).containsExactly(
        "r1-s0", "r1-s1", "r1-s2", "r2-s0", "r2-s1", "r2-s2", "r2-s3", "r3-s0", "r3-s1", "r3-s2", "r3-s3", "r3-s4");
    assertThat(OtlpWire.count(PayloadType.OTLP_TRACES, records.get(1).payload())).isEqualTo(3 + 4 + 5);
  }

  @Test
  void manyConcurrentSmallOffers_becomeFewerRecords_andEverySpanIsStoredOnce() throws Exception {
    buffer.close(); // reopened with an fsync per record: offers take long enough to overlap on any machine
    buffer = openBuffer(SpillBuffer.builder().memoryLimitBytes(0).fsync(FsyncPolicy.everyBatch()));
    CoalescingSpillWriter c = new CoalescingSpillWriter(buffer, 64 << 10, Duration.ofMillis(2), 1 << 20, 0);
    int threads = 8;
    int perThread = 40;
    CountDownLatch start = new CountDownLatch(1);
    List<Future<List<OfferResult>>> all = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      all.add(pool.submit(() -> {
        start.await(10, TimeUnit.SECONDS);
        List<OfferResult> results = new ArrayList<>();
        for (int i = 0; i < perThread; i++) {
          results.add(c.offer(PayloadType.OTLP_TRACES, traces(thread * perThread + i, 10), 10));
        }
        return results;
      }));
    }
    start.countDown();
    for (Future<List<OfferResult>> f : all) {
      assertThat(f.get(60, TimeUnit.SECONDS)).allMatch(OfferResult::accepted);
    }
    long records = buffer.metrics().offered();
    assertThat(records).as("records for %d requests", threads * perThread).isLessThan(threads * perThread);

    List<String> names = new ArrayList<>();
    for (Delivery d : drain((int) records)) {
      names.addAll(spanNames(d));
    }
    assertThat(names).hasSize(threads * perThread * 10).doesNotHaveDuplicates();
    // Within a record, each request's spans stay together and in order.
    for (int r = 0; r < threads * perThread; r++) {
      int at = names.indexOf("r" + r + "-s0");
      assertThat(at).isNotNegative();
      for (int s = 1; s < 10; s++) {
        assertThat(names.get(at + s)).isEqualTo("r" + r + "-s" + s);
      }
    }
  }

  @Test
  void aLoneRequestIsOfferedAtOnce_withoutWaitingTheWindow() throws Exception {
    CoalescingSpillWriter c = new CoalescingSpillWriter(buffer, 64 << 10, LONG_WINDOW, 1 << 20, 0);
    c.offer(PayloadType.OTLP_TRACES, traces(100, 1), 1); // the first seal asks for a data key; not timed
    long t0 = System.nanoTime();
    for (int r = 0; r < 5; r++) {
      assertThat(c.offer(PayloadType.OTLP_TRACES, traces(r, 2), 2).outcome()).isEqualTo(OfferResult.Outcome.SPILLED);
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    // One wait of the window would be 5000 ms; five sealed appends take a few ms.
    assertThat(millis).as("five lone requests took %d ms", millis).isLessThan(LONG_WINDOW.toMillis() / 2);
    assertThat(buffer.metrics().offered()).isEqualTo(6);
  }

  @Test
  void waitBusy_leaderGoesWhenTheBufferIsFree_waitWindow_leaderWaitsForLaterArrivals() throws Exception {
    for (boolean fullWindow : new boolean[] {false, true}) {
      HeldWriter held = new HeldWriter(buffer);
      CoalescingSpillWriter c =
          new CoalescingSpillWriter(held, 64 << 10, Duration.ofMillis(1500), 1 << 20, 0, fullWindow);
      int base = fullWindow ? 10 : 0;
      held.holdNext(PayloadType.OTLP_TRACES);
      Future<OfferResult> first = offerAsync(c, PayloadType.OTLP_TRACES, traces(base, 1));
      held.awaitHeld();
      Future<OfferResult> leader = offerAsync(c, PayloadType.OTLP_TRACES, traces(base + 1, 1));
      awaitTrue(() -> c.forming(PayloadType.OTLP_TRACES) == 1, "the second request leads a group");
      held.release();
      assertThat(first.get(10, TimeUnit.SECONDS).accepted()).isTrue();
      if (!fullWindow) {
        // The buffer is free: the leader goes at once, alone, long before its 1.5 s window.
        assertThat(leader.get(1, TimeUnit.SECONDS).accepted()).isTrue();
      }
      // A request arriving after the first one finished joins only a group still waiting its window.
      Future<OfferResult> late = offerAsync(c, PayloadType.OTLP_TRACES, traces(base + 2, 1));
      assertThat(leader.get(10, TimeUnit.SECONDS).accepted()).isTrue();
      assertThat(late.get(10, TimeUnit.SECONDS).accepted()).isTrue();
      List<List<String>> records = new ArrayList<>();
      for (Delivery d : drain(fullWindow ? 2 : 3)) {
        records.add(spanNames(d));
      }
      if (fullWindow) {
        assertThat(records).containsExactly(List.of("r10-s0"), List.of("r11-s0", "r12-s0"));
      } else {
        assertThat(records).containsExactly(List.of("r0-s0"), List.of("r1-s0"), List.of("r2-s0"));
      }
    }
  }

  @Test
  void waitWindow_aLoneRequestIsStillOfferedAtOnce() throws Exception {
    CoalescingSpillWriter c = new CoalescingSpillWriter(buffer, 64 << 10, LONG_WINDOW, 1 << 20, 0, true);
    c.offer(PayloadType.OTLP_TRACES, traces(100, 1), 1); // the first seal asks for a data key; not timed
    long t0 = System.nanoTime();
    for (int r = 0; r < 5; r++) {
      assertThat(c.offer(PayloadType.OTLP_TRACES, traces(r, 2), 2).accepted()).isTrue();
    }
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(LONG_WINDOW.toMillis() / 2);
  }

  @Test
  void aRefusalRefusesEveryMember_andNothingOfTheGroupIsStored() throws Exception {
    buffer.close();
    buffer = openBuffer(SpillBuffer.builder().memoryLimitBytes(0).fsync(FsyncPolicy.none()).maxDiskBytes(1 << 20)
        .overflowPolicy(OverflowPolicy.REFUSE));
    // Fill the disk budget with incompressible filler until the buffer refuses (bounded).
    Random random = new Random(19);
    int filler = 0;
    for (int size : new int[] {32 << 10, 4 << 10, 256, 16}) { // down to the last bytes of the budget
      for (int i = 0; i < 200 && buffer.offer(PayloadType.OTLP_LOGS, randomBytes(random, size)).accepted(); i++) {
        filler++;
      }
    }
    assertThat(buffer.offer(PayloadType.OTLP_TRACES, traces(99, 1)).accepted())
        .as("the budget is full after %d records", filler).isFalse();

    HeldWriter held = new HeldWriter(buffer);
    CoalescingSpillWriter c = new CoalescingSpillWriter(held, 64 << 10, LONG_WINDOW, 1 << 20, 0);
    held.holdNext(PayloadType.OTLP_TRACES);
    Future<OfferResult> first = offerAsync(c, PayloadType.OTLP_TRACES, traces(0, 2));
    held.awaitHeld();
    List<Future<OfferResult>> group = new ArrayList<>();
    for (int r = 1; r <= 3; r++) {
      group.add(offerAsync(c, PayloadType.OTLP_TRACES, traces(r, 2)));
      int members = r;
      awaitTrue(() -> c.forming(PayloadType.OTLP_TRACES) == members, "request " + r + " joined the group");
    }
    long offeredBefore = buffer.metrics().offered();
    held.release();

    assertThat(first.get(10, TimeUnit.SECONDS).accepted()).isFalse();
    OfferResult refused = group.get(0).get(10, TimeUnit.SECONDS);
    assertThat(refused.outcome()).isEqualTo(OfferResult.Outcome.REFUSED);
    assertThat(refused.reason()).isNotEmpty();
    for (Future<OfferResult> f : group) {
      assertThat(f.get(10, TimeUnit.SECONDS)).isSameAs(refused);
    }
    assertThat(buffer.metrics().offered() - offeredBefore).as("the group was one offer").isEqualTo(2);
    // What the buffer holds is the filler, and nothing else.
    List<Delivery> records = drain(filler);
    assertThat(records).hasSize(filler).allMatch(d -> d.payloadType() == PayloadType.OTLP_LOGS);
  }

  @Test
  void signalsAreNeverMixed_eachHasItsOwnGroups() throws Exception {
    HeldWriter held = new HeldWriter(buffer);
    CoalescingSpillWriter c = new CoalescingSpillWriter(held, 64 << 10, LONG_WINDOW, 1 << 20, 0);
    Map<PayloadType, byte[]> requests = Map.of(
        PayloadType.OTLP_TRACES, traces(0, 2),
        PayloadType.OTLP_LOGS, OtlpRequests.logs().toByteArray(),
        PayloadType.OTLP_METRICS, OtlpRequests.metrics().toByteArray());
    List<Future<OfferResult>> firsts = new ArrayList<>();
    for (PayloadType t : PayloadType.values()) {
      held.holdNext(t);
      firsts.add(offerAsync(c, t, requests.get(t)));
      held.awaitHeld();
    }
    List<Future<OfferResult>> members = new ArrayList<>();
    for (int i = 1; i <= 2; i++) { // interleaved: a traces, a logs, a metrics request, twice
      for (PayloadType t : PayloadType.values()) {
        members.add(offerAsync(c, t, requests.get(t)));
        int n = i;
        awaitTrue(() -> c.forming(t) == n, t + " request " + i + " joined its signal's group");
      }
    }
    held.releaseAll();
    for (Future<OfferResult> f : firsts) {
      assertThat(f.get(10, TimeUnit.SECONDS).accepted()).isTrue();
    }
    for (Future<OfferResult> f : members) {
      assertThat(f.get(10, TimeUnit.SECONDS).accepted()).isTrue();
    }
    List<Delivery> records = drain(6);
    assertThat(records).hasSize(6); // per signal: the held one alone, then its two others as one record
    Map<PayloadType, List<Long>> itemsPerRecord = new ConcurrentHashMap<>();
    for (Delivery d : records) {
      byte[] p = d.payload();
      // Each record parses as its own signal's request, whole.
      switch (d.payloadType()) {
        case OTLP_TRACES -> ExportTraceServiceRequest.parseFrom(p);
        case OTLP_LOGS -> ExportLogsServiceRequest.parseFrom(p);
        case OTLP_METRICS -> ExportMetricsServiceRequest.parseFrom(p);
      }
      itemsPerRecord.computeIfAbsent(d.payloadType(), k -> Collections.synchronizedList(new ArrayList<>()))
          .add(OtlpWire.count(d.payloadType(), p));
    }
    for (PayloadType t : PayloadType.values()) {
      long one = OtlpWire.count(t, requests.get(t));
      assertThat(itemsPerRecord.get(t)).as(t.toString()).containsExactlyInAnyOrder(one, 2 * one);
    }
  }

  @Test
  void aCombinedRecordNeverExceedsTheMaximum_inBytesOrItems() throws Exception {
    int requestBytes = traces(0, 4).length;
    int maxRecord = 3 * requestBytes + requestBytes / 2; // room for three requests, not four
    HeldWriter held = new HeldWriter(buffer);
    CoalescingSpillWriter c = new CoalescingSpillWriter(held, requestBytes, LONG_WINDOW, maxRecord, 0);
    held.holdNext(PayloadType.OTLP_TRACES);
    Future<OfferResult> first = offerAsync(c, PayloadType.OTLP_TRACES, traces(0, 4));
    held.awaitHeld();
    List<Future<OfferResult>> rest = new ArrayList<>();
    for (int r = 1; r <= 7; r++) {
      rest.add(offerAsync(c, PayloadType.OTLP_TRACES, traces(r, 4)));
    }
    // A request larger than max_request_bytes goes alone, never into a group.
    rest.add(offerAsync(c, PayloadType.OTLP_TRACES, traces(8, 8)));
    // Seven equal requests fill groups of three, three and one; the large one went alone.
    awaitTrue(() -> held.offers() == 4 && c.forming(PayloadType.OTLP_TRACES) == 1,
        "two full groups and the large request were offered, the last group formed");
    held.releaseAll();
    assertThat(first.get(10, TimeUnit.SECONDS).accepted()).isTrue();
    for (Future<OfferResult> f : rest) {
      assertThat(f.get(10, TimeUnit.SECONDS).accepted()).isTrue();
    }
    List<String> names = new ArrayList<>();
    long records = buffer.metrics().offered();
    for (Delivery d : drain((int) records)) {
      assertThat(d.payload().length).isLessThanOrEqualTo(maxRecord);
      names.addAll(spanNames(d));
    }
    assertThat(records).isEqualTo(5);
    assertThat(names).hasSize(8 * 4 + 8).doesNotHaveDuplicates();

    // The item limit (the exporter's send_batch_max_size) holds as well.
    HeldWriter held2 = new HeldWriter(buffer);
    CoalescingSpillWriter byItems = new CoalescingSpillWriter(held2, 64 << 10, LONG_WINDOW, 1 << 20, 10);
    held2.holdNext(PayloadType.OTLP_TRACES);
    Future<OfferResult> lead = offerAsync(byItems, PayloadType.OTLP_TRACES, traces(20, 4));
    held2.awaitHeld();
    List<Future<OfferResult>> more = new ArrayList<>();
    for (int r = 21; r <= 26; r++) {
      byte[] request = traces(r, 4);
      more.add(pool.submit(() -> byItems.offer(PayloadType.OTLP_TRACES, request))); // counted by the coalescer
    }
    // Four spans each, at most ten per record: groups of two.
    awaitTrue(() -> held2.offers() == 3 && byItems.forming(PayloadType.OTLP_TRACES) == 2,
        "two full groups were offered, the last formed");
    held2.releaseAll();
    assertThat(lead.get(10, TimeUnit.SECONDS).accepted()).isTrue();
    for (Future<OfferResult> f : more) {
      assertThat(f.get(10, TimeUnit.SECONDS).accepted()).isTrue();
    }
    long spans = 0;
    for (Delivery d : drain((int) buffer.metrics().offered() - (int) records)) {
      long n = OtlpWire.count(d.payloadType(), d.payload());
      assertThat(n).isLessThanOrEqualTo(10);
      spans += n;
    }
    assertThat(spans).isEqualTo(7 * 4);
  }

  // ------------------------------------------------------------------ fixtures

  private Future<OfferResult> offerAsync(CoalescingSpillWriter c, PayloadType t, byte[] request) {
    long items;
    try {
      items = OtlpWire.count(t, request);
    } catch (OtlpWire.Refused e) {
      throw new AssertionError(e);
    }
    return pool.submit(() -> c.offer(t, request, items));
  }

  /** A traces request of {@code spans} spans named {@code r<request>-s<i>}, ids distinct per request. */
  static byte[] traces(int request, int spans) {
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (int i = 0; i < spans; i++) {
      ss.addSpans(Span.newBuilder()
          .setTraceId(ByteString.copyFrom(ByteBuffer.allocate(16).putInt(0, 0x5a).putInt(12, request).array()))
          .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putInt(0, request).putInt(4, i + 1).array()))
          .setName("r" + request + "-s" + i)
          .setStartTimeUnixNano(1_700_000_000_000_000_000L)
          .setEndTimeUnixNano(1_700_000_000_100_000_000L));
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(ss)).build().toByteArray();
  }

  private static List<String> spanNames(Delivery d) throws Exception {
    List<String> names = new ArrayList<>();
    for (ResourceSpans rs : ExportTraceServiceRequest.parseFrom(d.payload()).getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        ss.getSpansList().forEach(s -> names.add(s.getName()));
      }
    }
    return names;
  }

  private static byte[] randomBytes(Random random, int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  /** Up to {@code n} records, oldest first, each acknowledged; waits at most 10 s in all. */
  private List<Delivery> drain(int n) throws InterruptedException {
    List<Delivery> out = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (out.size() < n && System.nanoTime() < deadline) {
      Delivery d = buffer.poll(Duration.ofMillis(100));
      if (d != null) {
        out.add(d);
        d.ack();
      }
    }
    Delivery extra = buffer.poll(Duration.ofMillis(200));
    assertThat(extra).as("no record beyond the %d expected", n).isNull();
    return out;
  }

  private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waited 10 s for: " + what).isLessThan(deadline);
      Thread.sleep(2); // 10 s at most
    }
  }

  /**
   * The real buffer behind a gate: an offer of a type armed with {@link #holdNext} stays inside
   * (in the coalescer's view, in the buffer's hands) until released. Not a mock: every offer
   * reaches the real buffer.
   */
  static final class HeldWriter implements SpillWriter {
    private final SpillWriter buffer;
    private final Set<PayloadType> armed = EnumSet.noneOf(PayloadType.class);
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile CountDownLatch held = new CountDownLatch(1);
    private final java.util.concurrent.atomic.AtomicInteger offers = new java.util.concurrent.atomic.AtomicInteger();

    HeldWriter(SpillWriter buffer) {
      this.buffer = buffer;
    }

    synchronized void holdNext(PayloadType t) {
      armed.add(t);
      held = new CountDownLatch(1);
    }

    void awaitHeld() throws InterruptedException {
      assertThat(held.await(10, TimeUnit.SECONDS)).as("an offer reached the gate").isTrue();
    }

    void release() {
      release.countDown();
    }

    void releaseAll() {
      release.countDown();
    }

    /** Offers that reached the gate, held or not. */
    int offers() {
      return offers.get();
    }

    @Override
    public OfferResult offer(PayloadType type, byte[] payload) {
      offers.incrementAndGet();
      boolean hold;
      CountDownLatch h;
      synchronized (this) {
        hold = armed.remove(type);
        h = held;
      }
      if (hold) {
        h.countDown();
        try {
          if (!release.await(20, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the test never released the held offer");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      return buffer.offer(type, payload);
    }

    @Override
    public BufferMetrics metrics() {
      return buffer.metrics();
    }

    @Override
    public void close() {
      buffer.close();
    }
  }
}
