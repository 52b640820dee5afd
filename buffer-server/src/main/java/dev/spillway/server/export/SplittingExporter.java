package dev.spillway.server.export;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.spillway.server.telemetry.ServerMetrics;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one oversize batch from blocking the drain. A batch within the configured request size
 * ({@code send_batch_max_size} spans, {@code send_batch_max_bytes}) goes to the transport as the
 * stored bytes, undecoded. A larger one is cut into requests within the size; a request the
 * downstream refuses as too large ({@link ExportResult.Kind#TOO_LARGE}) is halved and both halves
 * sent again, down to single spans; a single span still refused is dropped, logged (ids and size,
 * never content) and counted in {@link ServerMetrics#spansDroppedTooLarge}. Nothing behind it
 * waits.
 *
 * <p>When the downstream fails part-way through the pieces of a batch (down, throttling), the
 * result is retryable and the pieces not yet delivered are remembered: when the drain loop offers
 * the same batch again, only those are sent, so a split batch is not delivered twice.
 *
 * <p>To the drain loop this is an ordinary exporter: SUCCESS carries, as rejected spans, those
 * dropped as too large, refused as invalid in a piece, or rejected in a partial success. Safe to
 * call from the drain's several consumers at once: each part-delivered batch keeps its own pieces.
 */
final class SplittingExporter implements TraceExporter {
  private static final Logger LOG = LoggerFactory.getLogger(SplittingExporter.class);
  private static final HexFormat HEX = HexFormat.of();

  private final TraceExporter transport;
  private final long maxSpans;
  private final long maxBytes;
  private final ServerMetrics metrics;

  /**
   * Part-delivered batches (one per consumer at most in practice), with the pieces left and what
   * was counted so far; guarded by itself. Bounded: forgetting one costs a duplicate, not a loss.
   */
  private final Deque<Pending> pending = new ArrayDeque<>();

  static final int MAX_PENDING = 16;

  private record Pending(byte[] batch, Deque<List<TraceRequests.Item>> pieces, long rejected) {}

  /**
   * @param maxSpans largest request in spans, 0 for no limit
   * @param maxBytes largest request in bytes (serialized, before compression), 0 for no limit
   */
  SplittingExporter(TraceExporter transport, long maxSpans, long maxBytes, ServerMetrics metrics) {
    this.transport = transport;
    this.maxSpans = maxSpans;
    this.maxBytes = maxBytes;
    this.metrics = metrics;
  }

  @Override
  public ExportResult export(byte[] batch) {
    Pending resumed = takePending(batch);
    if (resumed != null) {
      return sendPieces(batch, resumed.pieces(), resumed.rejected());
    }
    boolean withinSize = (maxBytes == 0 || batch.length <= maxBytes)
        && (maxSpans == 0 || TraceRequests.countSpans(batch) <= maxSpans);
    if (withinSize) {
      ExportResult r = transport.export(batch); // the common case: the stored bytes as they are
      if (r.kind() != ExportResult.Kind.TOO_LARGE) {
        return r;
      }
      LOG.warn("the downstream refused a batch of {} bytes as too large ({}); splitting it", batch.length, r.reason());
    }
    List<TraceRequests.Item> items;
    try {
      items = TraceRequests.items(ExportTraceServiceRequest.parseFrom(batch));
    } catch (InvalidProtocolBufferException e) {
      return ExportResult.permanent("the batch is not a valid ExportTraceServiceRequest");
    }
    Deque<List<TraceRequests.Item>> pieces = new ArrayDeque<>();
    if (withinSize) {
      pieces.addAll(TraceRequests.halve(items));
    } else {
      pieces.addAll(TraceRequests.cut(items, maxSpans, maxBytes));
    }
    return sendPieces(batch, pieces, 0);
  }

  private ExportResult sendPieces(byte[] batch, Deque<List<TraceRequests.Item>> pieces, long rejectedSoFar) {
    long rejected = rejectedSoFar;
    while (!pieces.isEmpty()) {
      List<TraceRequests.Item> piece = pieces.peekFirst();
      if (piece.isEmpty()) {
        pieces.removeFirst();
        continue;
      }
      byte[] request = TraceRequests.request(piece).toByteArray();
      ExportResult r = transport.export(request);
      switch (r.kind()) {
        case SUCCESS -> {
          pieces.removeFirst();
          rejected += Math.min(r.rejectedSpans(), piece.size());
        }
        case TOO_LARGE -> {
          pieces.removeFirst();
          if (piece.size() > 1) {
            List<List<TraceRequests.Item>> halves = TraceRequests.halve(piece);
            pieces.addFirst(halves.get(1));
            pieces.addFirst(halves.get(0));
          } else {
            TraceRequests.Item it = piece.get(0);
            LOG.warn("a span too large for the downstream was dropped (counted): {} bytes, trace_id={} span_id={} ({})",
                request.length, HEX.formatHex(it.span().getTraceId().toByteArray()),
                HEX.formatHex(it.span().getSpanId().toByteArray()), r.reason());
            metrics.spansDroppedTooLarge.increment();
            rejected++;
          }
        }
        case PERMANENT -> {
          pieces.removeFirst();
          LOG.warn("the downstream refused {} spans of a split batch as invalid ({}); dropped, counted",
              piece.size(), r.reason());
          rejected += piece.size();
        }
        default -> {
          // Down or throttling: the drain loop retries; resume with what is left.
          keepPending(new Pending(batch, pieces, rejected));
          return r;
        }
      }
    }
    return ExportResult.success(rejected);
  }

  /** The part-delivered state of {@code batch}, removed, or null. */
  private Pending takePending(byte[] batch) {
    synchronized (pending) {
      for (var it = pending.iterator(); it.hasNext(); ) {
        Pending p = it.next();
        if (Arrays.equals(batch, p.batch())) {
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
