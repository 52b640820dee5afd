package dev.spillway.bench.receive;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.util.JsonFormat;
import dev.spillway.bench.SpanFixtures;
import dev.spillway.core.PayloadType;
import dev.spillway.server.receive.OtlpJson;
import dev.spillway.server.receive.OtlpWire;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What the daemon pays per request to validate and count it (issue #19: "bytes in, bytes out").
 *
 * <ul>
 *   <li>{@link #scan}: {@code OtlpWire.scan}, the receivers' validation and count: no objects.
 *   <li>{@link #count}: {@code OtlpWire.count}, the counting walk of the drain and the spilled
 *       counters (item boundaries only, no validation), against {@link #scan}.
 *   <li>{@link #parseAndCount}: the baseline it replaced, {@code ExportTraceServiceRequest.parseFrom}
 *       and a walk to count spans (what the receivers and the drain did before).
 *   <li>{@link #jsonStreaming}: OTLP/JSON to protobuf bytes by {@code OtlpJson.toProtobuf}.
 *   <li>{@link #jsonViaJsonFormat}: protobuf-java's {@code JsonFormat} parse and serialisation of
 *       the same request (ids in base64): a lower bound of the former path, which also built and
 *       printed a Gson tree before handing it to {@code JsonFormat}.
 * </ul>
 */
@State(Scope.Thread)
public class OtlpScanBenchmark {
  @Param({"512", "8192"})
  public int batch;

  private byte[] protobuf;
  private byte[] otlpJson;
  private String protoJson;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    protobuf = dev.spillway.core.export.internal.OtlpSpans.toBytes(SpanFixtures.spans(batch));
    ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(protobuf);
    protoJson = JsonFormat.printer().omittingInsignificantWhitespace().print(request);
    JsonElement tree = JsonParser.parseString(protoJson);
    hexIds(tree);
    otlpJson = tree.toString().getBytes(StandardCharsets.UTF_8);
    if (OtlpWire.scan(OtlpWire.Signal.TRACES, protobuf, OtlpWire.Limits.DEFAULT).items() != batch
        || OtlpWire.count(PayloadType.OTLP_TRACES, protobuf) != batch
        || !ExportTraceServiceRequest.parseFrom(
            OtlpJson.toProtobuf(OtlpWire.Signal.TRACES, otlpJson, OtlpWire.Limits.DEFAULT)).equals(request)) {
      throw new IllegalStateException("the fixtures do not round-trip");
    }
  }

  private static void hexIds(JsonElement e) {
    if (e.isJsonArray()) {
      e.getAsJsonArray().forEach(OtlpScanBenchmark::hexIds);
    } else if (e.isJsonObject()) {
      JsonObject o = e.getAsJsonObject();
      for (Map.Entry<String, JsonElement> f : o.entrySet()) {
        if (f.getKey().equals("traceId") || f.getKey().equals("spanId") || f.getKey().equals("parentSpanId")) {
          f.setValue(new JsonPrimitive(HexFormat.of().formatHex(Base64.getDecoder().decode(f.getValue().getAsString()))));
        } else {
          hexIds(f.getValue());
        }
      }
    }
  }

  @Benchmark
  public long scan() throws OtlpWire.Refused {
    return OtlpWire.scan(OtlpWire.Signal.TRACES, protobuf, OtlpWire.Limits.DEFAULT).items();
  }

  @Benchmark
  public long count() throws OtlpWire.Refused {
    return OtlpWire.count(PayloadType.OTLP_TRACES, protobuf);
  }

  @Benchmark
  public long parseAndCount() throws Exception {
    long n = 0;
    for (ResourceSpans rs : ExportTraceServiceRequest.parseFrom(protobuf).getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        n += ss.getSpansCount();
      }
    }
    return n;
  }

  @Benchmark
  public byte[] jsonStreaming() throws OtlpWire.Refused {
    return OtlpJson.toProtobuf(OtlpWire.Signal.TRACES, otlpJson, OtlpWire.Limits.DEFAULT);
  }

  @Benchmark
  public byte[] jsonViaJsonFormat() throws Exception {
    ExportTraceServiceRequest.Builder b = ExportTraceServiceRequest.newBuilder();
    JsonFormat.parser().ignoringUnknownFields().merge(protoJson, b);
    return b.build().toByteArray();
  }
}
