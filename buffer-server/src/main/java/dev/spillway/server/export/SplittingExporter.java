package dev.spillway.server.export;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.spillway.server.telemetry.ServerMetrics;
import dev.spillway.server.receive.OtlpWire;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one oversize batch from blocking the drain, for every signal. A batch within the
 * configured request size ({@code send_batch_max_size} items, {@code send_batch_max_bytes}) goes
 * to the transport as the stored bytes, undecoded. A larger one is cut into requests within the
 * size; a request the downstream refuses as too large ({@link ExportResult.Kind#TOO_LARGE}) is
 * halved and both halves sent again, down to single items (spans, data points, log records); a
 * single item still refused is dropped, logged (ids and size for a span, size for others, never
 * content) and counted in {@link ServerMetrics.SignalCounts#droppedTooLarge}. Nothing behind it
 * waits.
 *
 * <p>When the downstream fails part-way through the pieces of a batch (down, throttling), the
 * result is retryable and the pieces not yet delivered are remembered: when the drain loop offers
 * the same batch again, only those are sent, so a split batch is not delivered twice.
 *
 * <p>To the drain loop this is an ordinary exporter: SUCCESS carries, as rejected items, those
 * dropped as too large, refused as invalid in a piece, or rejected in a partial success. Safe to
 * call from the drain's several consumers at once: each part-delivered batch keeps its own pieces.
 */
final class SplittingExporter implements OtlpExporter {
  private static final Logger LOG = LoggerFactory.getLogger(SplittingExporter.class);
  private static final HexFormat HEX = HexFormat.of();

  private final OtlpExporter transport;
  private final long maxItems;
  private final long maxBytes;
  private final ServerMetrics metrics;

  /**
   * Part-delivered batches (one per consumer at most in practice), with the pieces left and what
   * was counted so far; guarded by itself. Bounded: forgetting one costs a duplicate, not a loss.
   */
  private final Deque<Pending> pending = new ArrayDeque<>();

  static final int MAX_PENDING = 16;

  private record Pending(
      OtlpWire.Signal signal, byte[] batch, Deque<List<OtlpRequests.Item>> pieces, long rejected) {}

  /**
   * @param maxItems largest request in items, 0 for no limit
   * @param maxBytes largest request in bytes (serialized, before compression), 0 for no limit
   */
  SplittingExporter(OtlpExporter transport, long maxItems, long maxBytes, ServerMetrics metrics) {
    this.transport = transport;
    this.maxItems = maxItems;
    this.maxBytes = maxBytes;
    this.metrics = metrics;
  }

  @Override
  public ExportResult export(OtlpWire.Signal signal, byte[] batch) {
    Pending resumed = takePending(signal, batch);
    if (resumed != null) {
      return sendPieces(signal, batch, resumed.pieces(), resumed.rejected());
    }
    boolean withinSize = (maxBytes == 0 || batch.length <= maxBytes)
        && (maxItems == 0 || OtlpRequests.count(signal, batch) <= maxItems);
    if (withinSize) {
      ExportResult r = transport.export(signal, batch); // the common case: the stored bytes as they are
      if (r.kind() != ExportResult.Kind.TOO_LARGE) {
        return r;
      }
      LOG.warn("the downstream refused a {} batch of {} bytes as too large ({}); splitting it",
          signal.label(), batch.length, r.reason());
    }
    List<OtlpRequests.Item> items;
    try {
      items = OtlpRequests.items(OtlpRequests.parse(signal, batch));
    } catch (InvalidProtocolBufferException e) {
      return ExportResult.permanent("the batch is not a valid " + signal.label() + " export request");
    }
    Deque<List<OtlpRequests.Item>> pieces = new ArrayDeque<>();
    if (withinSize) {
      pieces.addAll(OtlpRequests.halve(items));
    } else {
      pieces.addAll(OtlpRequests.cut(items, maxItems, maxBytes));
    }
    return sendPieces(signal, batch, pieces, 0);
  }

  private ExportResult sendPieces(OtlpWire.Signal signal, byte[] batch, Deque<List<OtlpRequests.Item>> pieces,
      long rejectedSoFar) {
    long rejected = rejectedSoFar;
    while (!pieces.isEmpty()) {
      List<OtlpRequests.Item> piece = pieces.peekFirst();
      if (piece.isEmpty()) {
        pieces.removeFirst();
        continue;
      }
      long weight = OtlpRequests.weight(piece);
      byte[] request = OtlpRequests.request(signal, piece).toByteArray();
      ExportResult r = transport.export(signal, request);
      switch (r.kind()) {
        case SUCCESS -> {
          pieces.removeFirst();
          rejected += Math.min(r.rejectedItems(), weight);
        }
        case TOO_LARGE -> {
          pieces.removeFirst();
          if (piece.size() > 1) {
            List<List<OtlpRequests.Item>> halves = OtlpRequests.halve(piece);
            pieces.addFirst(halves.get(1));
            pieces.addFirst(halves.get(0));
          } else {
            LOG.warn("one of the {} too large for the downstream was dropped (counted): {} bytes{} ({})",
                signal.items(), request.length, ids(piece.get(0)), r.reason());
            metrics.signal(signal).droppedTooLarge.add(weight);
            rejected += weight;
          }
        }
        case PERMANENT -> {
          pieces.removeFirst();
          LOG.warn("the downstream refused {} {} of a split batch as invalid ({}); dropped, counted",
              weight, signal.items(), r.reason());
          rejected += weight;
        }
        default -> {
          // Down or throttling: the drain loop retries; resume with what is left.
          keepPending(new Pending(signal, batch, pieces, rejected));
          return r;
        }
      }
    }
    return ExportResult.success(rejected);
  }

  /** A span's ids, to find it in the sender's own logs; nothing for other items (no content is logged). */
  private static String ids(OtlpRequests.Item it) {
    if (it.leaf() instanceof Span span) {
      return ", trace_id=" + HEX.formatHex(span.getTraceId().toByteArray())
          + " span_id=" + HEX.formatHex(span.getSpanId().toByteArray());
    }
    return "";
  }

  /** The part-delivered state of {@code batch}, removed, or null. */
  private Pending takePending(OtlpWire.Signal signal, byte[] batch) {
    synchronized (pending) {
      for (var it = pending.iterator(); it.hasNext(); ) {
        Pending p = it.next();
        if (p.signal() == signal && Arrays.equals(batch, p.batch())) {
          it.remove();
          return p;
        }
      }
      return null;
    }
  }

  private void keepPending(Pending p) {
    synchronized (pending) {
      if (pending.size() == MAX_PENDING) {
        pending.removeFirst();
      }
      pending.addLast(p);
    }
  }

  @Override
  public void close() {
    transport.close();
  }
}
