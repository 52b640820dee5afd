package dev.spillway.server.export;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.spillway.server.receive.OtlpWire;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.metrics.v1.Metric;
import java.util.ArrayList;
import java.util.List;

/**
 * Counting and cutting serialized export requests of any signal for the exporter. Counting walks
 * the wire format without building objects; cutting decodes, and is used only when a request is
 * over the configured size or the downstream refused it as too large.
 *
 * <p>The three requests share one shape: request → resource (field 1) → scope (field 2) → items
 * (field 2): spans, log records, or metrics, whose items are the data points inside the metric's
 * {@code data} (gauge, sum, histogram, exponential histogram, summary). An {@link Item} is one
 * span, log record or data point with its containers, each container without its children. Each
 * piece keeps its items' resource, scope (and metric) with their schema URLs, in the original
 * order.
 */
final class OtlpRequests {
  /** Bytes a container adds besides its content: tag and length, generously. */
  private static final int WRAPPER_OVERHEAD = 12;

  private OtlpRequests() {}

  /** Items in a serialized request, without decoding them ({@link OtlpWire}); -1 if it is not a valid request. */
  static long count(OtlpWire.Signal signal, byte[] request) {
    try {
      return OtlpWire.count(signal.payloadType(), request);
    } catch (OtlpWire.Refused e) {
      return -1;
    }
  }

  /**
   * One item with where it came from: {@code containers} are resource, scope (and for metrics the
   * metric), each without children and shared by identity among the items they held. {@code leaf}
   * is null only for a metric without data points, kept so that splitting loses nothing.
   */
  record Item(List<Message> containers, Message leaf) {
    /** Items this counts as (a metric without data points counts none). */
    int weight() {
      return leaf == null ? 0 : 1;
    }
  }

  static Message parse(OtlpWire.Signal signal, byte[] request) throws InvalidProtocolBufferException {
    return switch (signal) {
      case TRACES -> ExportTraceServiceRequest.parseFrom(request);
      case METRICS -> ExportMetricsServiceRequest.parseFrom(request);
      case LOGS -> ExportLogsServiceRequest.parseFrom(request);
    };
  }

  /** The request's items in order. */
  static List<Item> items(Message request) {
    List<Item> out = new ArrayList<>();
    FieldDescriptor resources = request.getDescriptorForType().findFieldByNumber(1);
    for (Object r : (List<?>) request.getField(resources)) {
      Message resource = (Message) r;
      FieldDescriptor scopes = resource.getDescriptorForType().findFieldByNumber(2);
      Message resourceShell = resource.toBuilder().clearField(scopes).build();
      for (Object s : (List<?>) resource.getField(scopes)) {
        Message scope = (Message) s;
        FieldDescriptor children = scope.getDescriptorForType().findFieldByNumber(2);
        Message scopeShell = scope.toBuilder().clearField(children).build();
        for (Object c : (List<?>) scope.getField(children)) {
          if (c instanceof Metric m) {
            metricItems(resourceShell, scopeShell, m, out);
          } else {
            out.add(new Item(List.of(resourceShell, scopeShell), (Message) c));
          }
        }
      }
    }
    return out;
  }

  private static void metricItems(Message resource, Message scope, Metric metric, List<Item> out) {
    FieldDescriptor data = dataField(metric);
    if (data == null) {
      out.add(new Item(List.of(resource, scope, metric), null));
      return;
    }
    Message points = (Message) metric.getField(data);
    FieldDescriptor list = points.getDescriptorForType().findFieldByName("data_points");
    Message shell = metric.toBuilder().setField(data, points.toBuilder().clearField(list).build()).build();
    List<?> all = (List<?>) points.getField(list);
    if (all.isEmpty()) {
      out.add(new Item(List.of(resource, scope, shell), null));
    }
    for (Object p : all) {
      out.add(new Item(List.of(resource, scope, shell), (Message) p));
    }
  }

  /** The field of the metric's {@code data} oneof that is set, or null. */
  private static FieldDescriptor dataField(com.google.protobuf.MessageOrBuilder metric) {
    var oneof = metric.getDescriptorForType().getOneofs().stream()
        .filter(o -> o.getName().equals("data")).findFirst().orElseThrow();
    return metric.getOneofFieldDescriptor(oneof);
  }

  /**
   * Cuts {@code items} into consecutive pieces of at most {@code maxItems} items (0: no limit)
   * whose requests are at most about {@code maxBytes} (0: no limit; the estimate counts each
   * container once per piece). A single item larger than {@code maxBytes} is a piece of its own.
   */
  static List<List<Item>> cut(List<Item> items, long maxItems, long maxBytes) {
    List<List<Item>> pieces = new ArrayList<>();
    List<Item> current = new ArrayList<>();
    long bytes = 0;
    long count = 0;
    Item last = null;
    for (Item it : items) {
      long add = leafSize(it) + containerSize(it, firstChanged(last, it));
      boolean full = (maxItems > 0 && count + it.weight() > maxItems) || (maxBytes > 0 && bytes + add > maxBytes);
      if (full && !current.isEmpty()) {
        pieces.add(current);
        current = new ArrayList<>();
        bytes = 0;
        count = 0;
        add = leafSize(it) + containerSize(it, 0); // a new piece repeats the containers
      }
      current.add(it);
      bytes += add;
      count += it.weight();
      last = it;
    }
    if (!current.isEmpty()) {
      pieces.add(current);
    }
    return pieces;
  }

  private static long leafSize(Item it) {
    return it.leaf() == null ? 0 : it.leaf().getSerializedSize() + WRAPPER_OVERHEAD;
  }

  private static long containerSize(Item it, int from) {
    long n = 0;
    for (int i = from; i < it.containers().size(); i++) {
      n += it.containers().get(i).getSerializedSize() + WRAPPER_OVERHEAD;
    }
    return n;
  }

  /** The first container level where {@code it} differs from {@code last} (by identity). */
  private static int firstChanged(Item last, Item it) {
    if (last == null || last.containers().size() != it.containers().size()) {
      return 0;
    }
    for (int i = 0; i < it.containers().size(); i++) {
      if (last.containers().get(i) != it.containers().get(i)) {
        return i;
      }
    }
    return it.containers().size();
  }

  /** Halves {@code items} by count (the first half is the larger one for an odd count). */
  static List<List<Item>> halve(List<Item> items) {
    int mid = (items.size() + 1) / 2;
    return List.of(items.subList(0, mid), items.subList(mid, items.size()));
  }

  /** Items in a piece, as the downstream counts them. */
  static long weight(List<Item> items) {
    long n = 0;
    for (Item it : items) {
      n += it.weight();
    }
    return n;
  }

  /** The request of {@code signal} holding {@code items}, consecutive items of the same containers grouped again. */
  static Message request(OtlpWire.Signal signal, List<Item> items) {
    Message.Builder root = switch (signal) {
      case TRACES -> ExportTraceServiceRequest.newBuilder();
      case METRICS -> ExportMetricsServiceRequest.newBuilder();
      case LOGS -> ExportLogsServiceRequest.newBuilder();
    };
    // open[0] is the request; open[i + 1] the builder of containers[i] while it is open.
    List<Message.Builder> open = new ArrayList<>();
    open.add(root);
    Item last = null;
    for (Item it : items) {
      int keep = firstChanged(last, it);
      close(open, keep + 1);
      for (int i = keep; i < it.containers().size(); i++) {
        open.add(it.containers().get(i).toBuilder());
      }
      if (it.leaf() != null) {
        addChild(open.get(open.size() - 1), it.leaf());
      }
      last = it;
    }
    close(open, 1);
    return root.build();
  }

  /** Builds the open builders deeper than {@code depth} into their parents. */
  private static void close(List<Message.Builder> open, int depth) {
    while (open.size() > depth) {
      Message built = open.remove(open.size() - 1).build();
      addChild(open.get(open.size() - 1), built);
    }
  }

  private static void addChild(Message.Builder parent, Message child) {
    if (parent instanceof Metric.Builder metric) {
      FieldDescriptor data = dataField(metric);
      Message.Builder points = metric.getFieldBuilder(data);
      points.addRepeatedField(points.getDescriptorForType().findFieldByName("data_points"), child);
      return;
    }
    // request → resource is field 1; resource → scope and scope → item are field 2
    int number = parent.getDescriptorForType().findFieldByNumber(2) != null
        && parent.getDescriptorForType().findFieldByNumber(2).isRepeated() ? 2 : 1;
    parent.addRepeatedField(parent.getDescriptorForType().findFieldByNumber(number), child);
  }
}
