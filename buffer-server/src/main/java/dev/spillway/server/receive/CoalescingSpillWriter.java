package dev.spillway.server.receive;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.OfferResult;
import dev.spillway.core.SpillWriter;
import dev.spillway.core.PayloadType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Groups small OTLP requests of one signal into one offer to the buffer, so several requests share
 * one sealed record (one envelope header, one GCM nonce and tag, one compressor start, one append,
 * one drain poll and one export), while every request is still answered on its own: each is told
 * the one {@link OfferResult} of the record that holds it, so a client is acknowledged only when
 * its items are in the buffer, and a refusal refuses every request of the group (each client
 * retries its own). Nothing of a refused group is stored: it was one offer.
 *
 * <p><b>Why concatenation is enough.</b> Every OTLP export request ({@code
 * ExportTraceServiceRequest}, {@code ...Logs...}, {@code ...Metrics...}) has one field, the repeated
 * field 1. By the protobuf wire rules two serialised requests written one after the other are one
 * valid request holding the repeated entries of both, in order; so the combined record is built
 * without a parse, and the drain's count of it ({@link OtlpWire#count}) is the sum of its requests'
 * counts. Signals are never mixed: each {@link PayloadType} has its own lane.
 *
 * <p><b>Group commit, waiting only when it can help.</b> A request finds its lane:
 * <ul>
 *   <li>nothing of its signal in the buffer's hands and no group forming: it is offered at once,
 *       alone, as without this class (a lightly loaded daemon adds no latency);</li>
 *   <li>a group forming with room for it: it joins and waits for the group's result;</li>
 *   <li>otherwise it leads a new group: it waits until no other offer of its signal is in the
 *       buffer's hands (the moment it would have got the buffer's lock anyway; with {@code
 *       fullWindow}, not before the window ends), the group is full, or the window has passed,
 *       whichever comes first; then it offers the group's bytes once.</li>
 * </ul>
 * Requests larger than {@code maxRequestBytes} are offered alone, as now. A group never holds more
 * than {@code maxRecordBytes} (and {@code maxRecordItems} items, when that is not 0), so the drain
 * sends a combined record whole, within the exporter's request limits.
 *
 * <p>Thread-safe. The wait of a member is bounded by the leader's window plus one offer.
 */
public final class CoalescingSpillWriter implements SpillWriter {
  private final SpillWriter buffer;
  private final int maxRequestBytes;
  private final long windowNanos;
  private final int maxRecordBytes;
  private final long maxRecordItems;
  private final boolean fullWindow;
  private final Map<PayloadType, Lane> lanes = new EnumMap<>(PayloadType.class);

  /**
   * @param buffer where the records go
   * @param maxRequestBytes requests up to this size may be grouped; larger ones go alone
   * @param window how long a leader waits at most for others to join
   * @param maxRecordBytes the largest combined record, at least {@code maxRequestBytes}
   * @param maxRecordItems the most items in a combined record, 0 for no limit
   */
  public CoalescingSpillWriter(SpillWriter buffer, int maxRequestBytes, Duration window, int maxRecordBytes,
      long maxRecordItems) {
    this(buffer, maxRequestBytes, window, maxRecordBytes, maxRecordItems, false);
  }

  /**
   * @param fullWindow false: a leader stops waiting as soon as no other offer of its signal is in
   *     the buffer's hands (it waits only as long as it would have waited for the buffer anyway);
   *     true: it waits the whole window (or until the group is full), so requests still on their
   *     way in can join. Either way a request that finds nothing in flight is offered at once.
   */
  public CoalescingSpillWriter(SpillWriter buffer, int maxRequestBytes, Duration window, int maxRecordBytes,
      long maxRecordItems, boolean fullWindow) {
    this.fullWindow = fullWindow;
    this.buffer = Objects.requireNonNull(buffer, "buffer");
    if (maxRequestBytes < 1 || maxRecordBytes < maxRequestBytes) {
      throw new IllegalArgumentException("need 1 <= maxRequestBytes <= maxRecordBytes, got " + maxRequestBytes
          + " and " + maxRecordBytes);
    }
    if (window.isNegative() || window.isZero() || maxRecordItems < 0) {
      throw new IllegalArgumentException("window must be positive and maxRecordItems >= 0, got " + window
          + " and " + maxRecordItems);
    }
    this.maxRequestBytes = maxRequestBytes;
    this.windowNanos = window.toNanos();
    this.maxRecordBytes = maxRecordBytes;
    this.maxRecordItems = maxRecordItems;
    for (PayloadType t : PayloadType.values()) {
      lanes.put(t, new Lane());
    }
  }

  /**
   * Offers one request; when the item count is needed ({@code maxRecordItems} set) it is counted
   * here. {@link OtlpIngest} calls {@link #offer(PayloadType, byte[], long)} with the count it has.
   */
  @Override
  public OfferResult offer(PayloadType type, byte[] payload) {
    long items = 0;
    if (maxRecordItems > 0 && payload.length <= maxRequestBytes) {
      try {
        items = OtlpWire.count(type, payload);
      } catch (OtlpWire.Refused notAValidRequest) {
        return alone(lane(type), type, payload); // never mixed into another request's record
      }
    }
    return offer(type, payload, items);
  }

  /**
   * @param items the items (spans, data points, log records) the request holds, as the receivers'
   *     scan counted them
   */
  public OfferResult offer(PayloadType type, byte[] payload, long items) {
    Lane lane = lane(type);
    if (payload.length > maxRequestBytes || (maxRecordItems > 0 && items > maxRecordItems)) {
      return alone(lane, type, payload);
    }
    Group mine;
    lane.lock.lock();
    try {
      Group open = lane.open;
      if (open == null && lane.inBuffer == 0) {
        lane.inBuffer++; // alone and nothing else in flight: offered at once, no waiting
        mine = null;
      } else if (open != null && open.fits(payload.length, items)) {
        open.add(payload, items);
        if (open.full()) {
          lane.close(open);
        }
        return awaitAsMember(lane, open);
      } else {
        if (open != null) {
          lane.close(open); // full for this request: its leader offers it now
        }
        mine = new Group(lane.lock.newCondition());
        mine.add(payload, items);
        lane.open = mine;
        leadUntilReady(lane, mine);
        lane.inBuffer++;
      }
    } finally {
      lane.lock.unlock();
    }
    if (mine == null) {
      return offerAndRelease(lane, type, payload);
    }
    return offerGroup(lane, type, mine);
  }

  /** A request offered on its own, counted as in the buffer's hands while it is. */
  private OfferResult alone(Lane lane, PayloadType type, byte[] payload) {
    lane.lock.lock();
    try {
      lane.inBuffer++;
    } finally {
      lane.lock.unlock();
    }
    return offerAndRelease(lane, type, payload);
  }

  private OfferResult offerAndRelease(Lane lane, PayloadType type, byte[] payload) {
    try {
      return buffer.offer(type, payload);
    } finally {
      lane.lock.lock();
      try {
        lane.inBuffer--;
        lane.changed.signalAll();
      } finally {
        lane.lock.unlock();
      }
    }
  }

  /**
   * The leader's wait, under the lane's lock: while another offer of this signal is in the buffer's
   * hands, the group is open and the window lasts. Interrupted, it stops waiting (the group must
   * still be offered: its members wait for it) and keeps the interrupt for the caller.
   */
  private void leadUntilReady(Lane lane, Group group) {
    long deadline = System.nanoTime() + windowNanos;
    boolean interrupted = false;
    while (!group.closed && (fullWindow || lane.inBuffer > 0)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        lane.changed.awaitNanos(left);
      } catch (InterruptedException e) {
        interrupted = true;
        break;
      }
    }
    lane.close(group);
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Offers the group's bytes once and hands every member the result. */
  private OfferResult offerGroup(Lane lane, PayloadType type, Group group) {
    OfferResult result = null;
    Throwable failure = null;
    try {
      result = buffer.offer(type, group.combined());
    } catch (Throwable t) { // the members must hear of it whatever it is
      failure = t;
    } finally {
      lane.lock.lock();
      try {
        lane.inBuffer--;
        group.complete(result, failure);
        lane.changed.signalAll();
      } finally {
        lane.lock.unlock();
      }
    }
    if (failure instanceof RuntimeException e) {
      throw e;
    }
    if (failure instanceof Error e) {
      throw e;
    }
    if (failure != null) {
      throw new IllegalStateException(failure);
    }
    return result;
  }

  /** Under the lane's lock: waits for the leader's offer of the group, then returns its result. */
  private static OfferResult awaitAsMember(Lane lane, Group group) {
    while (!group.done) {
      // Uninterruptibly: the leader answers within its window plus one offer, and this request's
      // bytes are already in the group, so only the group's result says whether they were stored.
      group.answered.awaitUninterruptibly();
    }
    if (group.failure != null) {
      throw new IllegalStateException("the buffer failed the offer of " + group.members
          + " requests combined into one record: " + group.failure, group.failure);
    }
    return group.result;
  }

  /** For tests: the requests in the group of this signal now forming (0 when none is). */
  int forming(PayloadType type) {
    Lane lane = lane(type);
    lane.lock.lock();
    try {
      return lane.open == null ? 0 : lane.open.members;
    } finally {
      lane.lock.unlock();
    }
  }

  private Lane lane(PayloadType type) {
    return lanes.get(Objects.requireNonNull(type, "type"));
  }

  @Override
  public BufferMetrics metrics() {
    return buffer.metrics();
  }

  /** Closes the buffer. Offers racing the close are refused by the buffer, as without this class. */
  @Override
  public void close() {
    buffer.close();
  }

  /** One signal's state; everything guarded by {@link #lock}. */
  private static final class Lane {
    final ReentrantLock lock = new ReentrantLock();
    /** Signalled when an offer leaves the buffer's hands or a group is closed. */
    final Condition changed = lock.newCondition();
    /** Offers of this signal inside {@link #buffer}'s offer now. */
    int inBuffer;
    /** The group new requests join; null when none is forming. */
    Group open;

    void close(Group g) {
      g.closed = true;
      if (open == g) {
        open = null;
      }
      changed.signalAll();
    }
  }

  /** Requests offered as one record; guarded by its lane's lock. */
  private final class Group {
    private final Condition answered;
    private final List<byte[]> parts = new ArrayList<>(4);
    int bytes;
    long items;
    int members;
    /** No more members: its leader offers it. */
    boolean closed;
    boolean done;
    OfferResult result;
    Throwable failure;

    Group(Condition answered) {
      this.answered = answered;
    }

    boolean fits(int moreBytes, long moreItems) {
      return !closed && bytes + moreBytes <= maxRecordBytes && (maxRecordItems == 0 || items + moreItems <= maxRecordItems);
    }

    boolean full() {
      return bytes >= maxRecordBytes || (maxRecordItems > 0 && items >= maxRecordItems);
    }

    void add(byte[] payload, long moreItems) {
      parts.add(payload);
      bytes += payload.length;
      items += moreItems;
      members++;
    }

    /** Field 1 of each request, one after the other: one valid request of them all, in order. */
    byte[] combined() {
      if (parts.size() == 1) {
        return parts.get(0);
      }
      byte[] out = new byte[bytes];
      int at = 0;
      for (byte[] p : parts) {
        System.arraycopy(p, 0, out, at, p.length);
        at += p.length;
      }
      return out;
    }

    void complete(OfferResult r, Throwable t) {
      result = r;
      failure = t;
      done = true;
      answered.signalAll();
    }
  }
}
